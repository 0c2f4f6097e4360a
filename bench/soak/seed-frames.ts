/**
 * Valid frames to mutate: one of every message type drawn from the catalog's own
 * generators, and every frame of a real two-way reconcile between two session engines
 * (hellos with store digests, sketches, keys, entries, wants, goodbyes).
 */
import fc from 'fast-check';
import { MemoryStore as SyncMemoryStore } from '../../protocol/merge/memory-store.ts';
import { anyMessage } from '../../protocol/messages/arbitraries.ts';
import { encodeMessage } from '../../protocol/messages/codec.ts';
import { Reconciler } from '../../protocol/reconcile/reconciler.ts';
import { RECONCILE_CAPABILITY } from '../../protocol/session/engine.ts';
import { exchange, Side, testConfig, type LoggedFrame } from '../../protocol/session/harness.ts';
import { MemoryStore } from '../../protocol/session/memory-store.ts';
import { applyOps, originOf, UNIVERSE } from '../../protocol/testing/store-arbitraries.ts';
import { DEFAULT_LIMITS } from '../../protocol/wire/limits.ts';

/** `count` encoded catalog messages, the same for the same seed. */
export function catalogFrames(seed: number, count: number): Uint8Array[] {
  return fc
    .sample(anyMessage(), { seed, numRuns: count })
    .map((m) => encodeMessage(1, m, DEFAULT_LIMITS));
}

/** A session engine that reconciles with a store of `items` universe items. */
export function reconcilingSide(name: string, items: readonly number[], origin: number): Side {
  return reconcilingPair(name, items, origin).side;
}

/** {@link reconcilingSide} and the store it reconciles. */
export function reconcilingPair(name: string, items: readonly number[], origin: number) {
  const store = new SyncMemoryStore({ origin: originOf(origin), capacity: null });
  applyOps(
    store,
    items.map((item) => ({ op: 'import' as const, item })),
  );
  const config = testConfig({ capabilities: [RECONCILE_CAPABILITY], sync: 'auto' });
  const side = new Side(name, config, {
    store: new MemoryStore(),
    reconciler: new Reconciler(store),
  });
  return { side, store };
}

/** Every frame of one reconcile between two overlapping stores, both directions. */
export function reconcileFrames(): LoggedFrame[] {
  const all = Array.from({ length: UNIVERSE }, (_, i) => i);
  const a = reconcilingSide('a', all.slice(0, 16), 1);
  const b = reconcilingSide('b', all.slice(8), 2);
  const log: LoggedFrame[] = [];
  a.feed({ kind: 'start', now: 0 });
  b.feed({ kind: 'start', now: 0 });
  exchange(a, b, 0, log);
  return log;
}
