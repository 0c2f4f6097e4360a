/**
 * Shared fast-check generators of store histories (spec/reconcile.md, "Properties"): a
 * small universe of certificates and CRLs, and per store a list of local writes (import,
 * delete, relabel, use) on top of a history the stores share. Shared stores start as
 * copies of one store, so they hold the same versions, as two synced devices do.
 */

import fc from 'fast-check';
import { sha256 } from '@noble/hashes/sha2.js';
import type { EntryKind } from '../merge/entry.ts';
import { EVICT_ANY, MemoryStore } from '../merge/memory-store.ts';
import type { OverflowPolicy } from '../merge/store.ts';

/** One local write on a store, naming an item of the universe by its index. */
export type StoreOp =
  | { readonly op: 'import'; readonly item: number }
  | { readonly op: 'delete'; readonly item: number }
  | { readonly op: 'label'; readonly item: number; readonly label: string }
  | { readonly op: 'use'; readonly item: number };

/** Items in the universe the generators draw from. */
export const UNIVERSE = 24;

/** The DER of universe item `i`: 40 bytes derived from the index (a stand-in for a DER). */
export function universeDer(i: number): Uint8Array {
  const seed = new TextEncoder().encode(`certsync test item ${i}`);
  const a = sha256(seed);
  const out = new Uint8Array(40);
  out.set(a, 0);
  out.set(a.subarray(0, 8), 32);
  return out;
}

/** Kind of universe item `i`: every fifth one is a CRL. */
export function universeKind(i: number): EntryKind {
  return i % 5 === 4 ? 'crl' : 'cert';
}

/** Fingerprint of universe item `i`: SHA-256 of its DER. */
export function universeFingerprint(i: number): Uint8Array {
  return sha256(universeDer(i));
}

/** A generator of one local write. */
export const storeOp: fc.Arbitrary<StoreOp> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant('import' as const), item: fc.nat(UNIVERSE - 1) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('delete' as const), item: fc.nat(UNIVERSE - 1) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('label' as const),
      item: fc.nat(UNIVERSE - 1),
      label: fc.constantFrom('home', 'work', 'Alice'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('use' as const), item: fc.nat(UNIVERSE - 1) }),
  },
);

/** Applies local writes to a store. */
export function applyOps(store: MemoryStore, ops: readonly StoreOp[]): void {
  for (const o of ops) {
    const kind = universeKind(o.item);
    const fp = universeFingerprint(o.item);
    if (o.op === 'import') store.importEntry(kind, fp, universeDer(o.item));
    else if (o.op === 'delete') store.deleteEntry(kind, fp);
    else if (o.op === 'label') store.setMeta(kind, fp, { label: o.label, pinned: false });
    else store.touch(kind, fp);
  }
}

/** The 16-byte origin id of test store number `n`. */
export function originOf(n: number): Uint8Array {
  const o = new Uint8Array(16);
  o[0] = 0xc0;
  o[15] = n;
  return o;
}

/** Options of the stores a scenario builds. */
export interface StoreShape {
  readonly capacity: number | null;
  readonly policy: OverflowPolicy;
}

/** A history: writes every store shares, then each store's own writes. */
export interface Scenario {
  readonly shared: readonly StoreOp[];
  readonly own: readonly (readonly StoreOp[])[];
  readonly shapes: readonly StoreShape[];
}

/** Builds the stores of a scenario: each one a copy of the shared history, then its own. */
export function buildStores(s: Scenario): MemoryStore[] {
  const base = new MemoryStore({ origin: originOf(255) });
  applyOps(base, s.shared);
  return s.own.map((ops, i) => {
    const shape = s.shapes[i] ?? { capacity: null, policy: 'lru' };
    const store = new MemoryStore({ origin: originOf(i), ...shape });
    for (const e of [...base.tombstones(), ...base.liveEntries()]) store.apply(e, EVICT_ANY);
    applyOps(store, ops);
    return store;
  });
}

/** Scenarios of `stores` unlimited stores. */
export function scenario(stores: number): fc.Arbitrary<Scenario> {
  return fc.record({
    shared: fc.array(storeOp, { maxLength: 30 }),
    own: fc.array(fc.array(storeOp, { maxLength: 20 }), { minLength: stores, maxLength: stores }),
    shapes: fc.constant(
      Array.from({ length: stores }, () => ({ capacity: null, policy: 'lru' as const })),
    ),
  });
}

/** Scenarios of `stores` stores with small capacities and any policy. */
export function cappedScenario(stores: number): fc.Arbitrary<Scenario> {
  const shape = fc.record({
    capacity: fc.integer({ min: 1, max: 12 }),
    policy: fc.constantFrom('lru' as const, 'alert' as const, 'refuse' as const),
  });
  return fc.record({
    shared: fc.array(storeOp, { maxLength: 30 }),
    own: fc.array(fc.array(storeOp, { maxLength: 20 }), { minLength: stores, maxLength: stores }),
    shapes: fc.array(shape, { minLength: stores, maxLength: stores }),
  });
}
