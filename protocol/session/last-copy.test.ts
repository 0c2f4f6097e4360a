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
        // So is the record an update replaced: a deletion, with its tombstone.
        const deleted = (id: string) => aStore.tombstones.has(id) || bStore.tombstones.has(id);
        for (const id of before) {
          assert.ok(
            after.has(id) || (pickVictim && chosen.has(id)) || deleted(id),
            `lost ${id.slice(0, 8)}`,
          );
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

const labelled = (n: number): Item => ({ ...item(n), label: `c${n % 4}`, pinned: n % 9 === 0 });

test('transfers one after another and both ways at once, in one session, never lose a last copy', () => {
  const step = fc.record({
    a: fc.option(fc.constantFrom<TransferMode>('add', 'update', 'replace-all'), { nil: null }),
    b: fc.option(fc.constantFrom<TransferMode>('add', 'update', 'replace-all'), { nil: null }),
    pick: fc.integer({ min: 1, max: 255 }),
  });
  fc.assert(
    fc.property(
      storeShape,
      storeShape,
      fc.array(step, { minLength: 1, maxLength: 4 }),
      (sa, sb, steps) => {
        const stores = [sa, sb].map((shape) => {
          const s = new MemoryStore(shape.capacity, shape.policy);
          const kept = shape.capacity === null ? shape.items : shape.items.slice(0, shape.capacity);
          for (const n of kept) s.put(labelled(n));
          return s;
        });
        const [aStore, bStore] = stores as [MemoryStore, MemoryStore];
        const ever = new Set([...aStore.live.keys(), ...bStore.live.keys()]);
        const a = new Side('a', testConfig(), { store: aStore });
        const b = new Side('b', testConfig(), { store: bStore });
        a.feed({ kind: 'start', now: 0 });
        b.feed({ kind: 'start', now: 0 });
        exchange(a, b, 0);
        let now = 1;
        for (const s of steps) {
          for (const [side, store, mode] of [
            [a, aStore, s.a],
            [b, bStore, s.b],
          ] as const) {
            if (mode === null) continue;
            const ids = [...store.live.keys()].filter((_, i) => (s.pick >> (i % 8)) & 1);
            side.command(now, { op: 'push', mode, ids });
          }
          // Alerts are aborted: every removal left is one the session made by itself.
          for (let round = 0; round < 50; round++) {
            exchange(a, b, now++);
            const asking = [a, b].filter((x) => x.state.outbound?.alert);
            if (asking.length === 0) break;
            for (const x of asking) x.command(now, { op: 'overflow-choice', victim: null });
          }
          for (const x of [a, b]) assert.equal(x.state.outbound, null);
          for (const id of [...aStore.live.keys(), ...bStore.live.keys()]) ever.add(id);
          const after = new Set([...aStore.live.keys(), ...bStore.live.keys()]);
          // The record an update replaced is a deletion the user asked for, with its tombstone.
          const deleted = (id: string) => aStore.tombstones.has(id) || bStore.tombstones.has(id);
          for (const id of ever) {
            assert.ok(after.has(id) || deleted(id), `lost ${id.slice(0, 8)}`);
          }
        }
        for (const [store, shape] of [
          [aStore, sa],
          [bStore, sb],
        ] as const) {
          if (shape.capacity !== null) assert.ok(store.live.size <= shape.capacity);
        }
      },
    ),
    { numRuns: 300 },
  );
});
