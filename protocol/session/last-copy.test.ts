import assert from 'node:assert/strict';
import test from 'node:test';

import fc from 'fast-check';

import type { TransferMode } from '../messages/catalog.ts';
import type { Item } from '../messages/records.ts';
import { bytesOf } from '../wire/hex.ts';
import { exchange, Side, testConfig } from './harness.ts';
import { MemoryStore, type OverflowPolicy } from './memory-store.ts';

function item(n: number): Item {
  const der = Uint8Array.of(0x30, 0x03, 0x02, 0x01, n);
  return {
    kind: 'cert',
    der,
    label: `c${n}`,
    pinned: n % 5 === 0,
    clock: n,
    origin: new Uint8Array(16),
    useCount: n % 7,
  };
}

const storeShape = fc.record({
  items: fc.uniqueArray(fc.integer({ min: 1, max: 30 }), { maxLength: 8 }),
  capacity: fc.option(fc.integer({ min: 1, max: 8 }), { nil: null }),
  policy: fc.constantFrom<OverflowPolicy>('lru', 'alert', 'refuse'),
});

function build(shape: { items: number[]; capacity: number | null; policy: OverflowPolicy }) {
  const store = new MemoryStore(shape.capacity, shape.policy);
  const kept = shape.capacity === null ? shape.items : shape.items.slice(0, shape.capacity);
  for (const n of kept) store.put(item(n));
  return store;
}

test('pushes in any mode, both ways at once, never lose the last copy of an item', () => {
  fc.assert(
    fc.property(
      storeShape,
      storeShape,
      fc.constantFrom<TransferMode>('add', 'update', 'replace-all'),
      fc.constantFrom<TransferMode>('add', 'update', 'replace-all'),
      fc.boolean(),
      (shapeA, shapeB, modeA, modeB, pickVictim) => {
        const aStore = build(shapeA);
        const bStore = build(shapeB);
        const before = new Set([...aStore.live.keys(), ...bStore.live.keys()]);
        const a = new Side('a', testConfig(), { store: aStore });
        const b = new Side('b', testConfig(), { store: bStore });
        a.feed({ kind: 'start', now: 0 });
        b.feed({ kind: 'start', now: 0 });
        exchange(a, b, 0);
        a.command(1, { op: 'push', mode: modeA, ids: [...aStore.live.keys()] });
        b.command(1, { op: 'push', mode: modeB, ids: [...bStore.live.keys()] });
        // A capped loop: answer every overflow alert (first candidate, or abort) until quiet.
        for (let round = 0; round < 50; round++) {
          exchange(a, b, 2 + round);
          const asking = [a, b].filter((s) => s.state.outbound?.alert);
          if (asking.length === 0) break;
          for (const s of asking) {
            const first = s.state.outbound?.alert?.candidates[0];
            const victim = pickVictim && first !== undefined ? bytesOf(first) : null;
            s.command(3 + round, { op: 'overflow-choice', victim });
          }
        }
        for (const s of [a, b]) {
          assert.equal(s.state.phase, 'ready');
          assert.equal(s.state.outbound, null);
          assert.equal(s.state.inbound, null);
        }
        const after = new Set([...aStore.live.keys(), ...bStore.live.keys()]);
        // An alert victim is the user's explicit choice; every other item must survive.
        const chosen = new Set(
          [a, b]
            .flatMap((s) => s.seen('items-acked').flatMap((e) => e.results))
            .filter((r) => r.replaced !== undefined)
            .map((r) =>
              [...(r.replaced as Uint8Array)].map((x) => x.toString(16).padStart(2, '0')).join(''),
            ),
        );
        for (const id of before) {
          assert.ok(after.has(id) || (pickVictim && chosen.has(id)), `lost ${id.slice(0, 8)}`);
        }
        for (const [store, shape] of [
          [aStore, shapeA],
          [bStore, shapeB],
        ] as const) {
          if (shape.capacity !== null) assert.ok(store.live.size <= shape.capacity);
        }
      },
    ),
    { numRuns: 300 },
  );
});
