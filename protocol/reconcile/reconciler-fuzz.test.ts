import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isCertsyncError } from '../errors.ts';
import { MemoryStore } from '../merge/memory-store.ts';
import { applyOps, originOf, storeOp } from '../testing/store-arbitraries.ts';
import type { ReconcileMessage } from './messages.ts';
import { Reconciler } from './reconciler.ts';

const bytes = (min: number, max: number): fc.Arbitrary<Uint8Array> =>
  fc.uint8Array({ minLength: min, maxLength: max });

/** Messages a hostile or broken peer could send: well-formed payloads, any order. */
const hostile: fc.Arbitrary<ReconcileMessage> = fc.oneof(
  fc.record({
    type: fc.constant('cells' as const),
    start: fc.nat(40),
    cells: fc.integer({ min: 1, max: 8 }).chain((n) => bytes(8 * n, 8 * n)),
  }),
  fc.record({
    type: fc.constant('keys' as const),
    keys: fc.integer({ min: 0, max: 8 }).chain((n) => bytes(6 * n, 6 * n)),
    wide: fc.constant(false),
    last: fc.boolean(),
  }),
  fc.record({
    type: fc.constant('entry' as const),
    entry: fc.record({
      kind: fc.constantFrom('cert' as const, 'crl' as const),
      fingerprint: bytes(32, 32),
      deleted: fc.boolean(),
      clock: fc.nat(100),
      origin: bytes(16, 16),
      der: fc.constant(null),
      meta: fc.constant({ label: null, pinned: false }),
    }),
  }),
  fc.record({
    type: fc.constant('want' as const),
    records: fc.array(
      fc.record({ kind: fc.constant('cert' as const), fingerprint: bytes(32, 32) }),
      { maxLength: 3 },
    ),
  }),
  fc.constant({ type: 'done' as const }),
);

test('a reconciler fed any message sequence throws nothing but CertsyncError and stays within capacity', () => {
  fc.assert(
    fc.property(
      fc.array(storeOp, { maxLength: 15 }),
      bytes(63, 63),
      fc.array(hostile, { maxLength: 12 }),
      (ops, peerDigest, msgs) => {
        const store = new MemoryStore({ origin: originOf(1), capacity: 6, policy: 'lru' });
        applyOps(store, ops);
        const r = new Reconciler(store);
        r.hello();
        const digest = peerDigest.slice();
        digest[0] = 1;
        digest[17] = 0;
        digest[18] = 0;
        try {
          r.begin(digest);
          for (const m of msgs) r.receive(m);
        } catch (err) {
          assert.ok(isCertsyncError(err), `threw ${String(err)}`);
        }
        assert.ok(store.capacityInfo().live <= 6);
      },
    ),
    { numRuns: 300 },
  );
});
