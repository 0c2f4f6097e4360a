/**
 * Test helpers for anything that stores, merges or reconciles certificates: fast-check
 * generators of store histories and transfer cases, assertions about stores after a sync,
 * a capacity-checking store wrapper, and the capped two-replica sync loop over the real
 * wire codec. Used by the property tests of protocol/reconcile and protocol/merge, and
 * meant for the conformance suite. Test code only: nothing in the product imports it.
 */

export { CapacityCheckedStore } from './checked-store.ts';
export { planCase, PLAN_NOW, type PlanCase } from './facts-arbitraries.ts';
export {
  applyOps,
  buildStores,
  cappedScenario,
  originOf,
  scenario,
  storeOp,
  UNIVERSE,
  universeDer,
  universeFingerprint,
  universeKind,
  type Scenario,
  type StoreOp,
  type StoreShape,
} from './store-arbitraries.ts';
export {
  assertSameContent,
  assertWithinCapacity,
  contentOf,
  describeEntry,
  liveKeys,
} from './store-assertions.ts';
export { runSync, type DirectionBytes, type SyncOptions, type SyncRun } from './sync-loop.ts';
