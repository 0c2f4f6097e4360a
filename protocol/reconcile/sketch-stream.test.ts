import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { keyCheck } from './item-hash.ts';
import {
  emptyCells,
  encodeCells,
  IndexWalk,
  keyHitsIndex,
  peelCells,
  xorCellsInto,
  type Cells,
} from './riblt.ts';
import { IncrementalPeeler } from './sketch-stream.ts';

const key48 = fc.integer({ min: 1, max: 2 ** 48 - 1 });

const slice = (c: Cells, from: number, to: number): Cells => ({
  hi: c.hi.slice(from, to),
  lo: c.lo.slice(from, to),
  chk: c.chk.slice(from, to),
});

/**
 * spec/reconcile.md, "Peeling", written plainly: after each extension, the keys peeled
 * before are XORed out of the new cells, then a FIFO seeded with the new indices in
 * increasing order peels; a peeled key re-queues every other cell it leaves non-empty.
 */
function modelPeel(diff: Cells, batches: readonly number[]): { keys: number[]; at: boolean[] } {
  const m = diff.hi.length;
  const cells = emptyCells(m);
  const keys: number[] = [];
  const at: boolean[] = [];
  let size = 0;
  const xorKey = (j: number, key: number): void => {
    const h = Math.floor(key / 0x1000000);
    const l = key % 0x1000000;
    cells.hi[j] = (cells.hi[j] as number) ^ h;
    cells.lo[j] = (cells.lo[j] as number) ^ l;
    cells.chk[j] = (cells.chk[j] as number) ^ keyCheck(h, l);
  };
  for (const end of batches) {
    cells.hi.set(diff.hi.subarray(size, end), size);
    cells.lo.set(diff.lo.subarray(size, end), size);
    cells.chk.set(diff.chk.subarray(size, end), size);
    for (const key of keys) {
      const w = new IndexWalk(Math.floor(key / 0x1000000), key % 0x1000000);
      for (let j = 0; j < end; j = w.next()) if (j >= size) xorKey(j, key);
    }
    const queue: number[] = [];
    for (let i = size; i < end; i++) queue.push(i);
    for (let q = 0; q < queue.length; q++) {
      const i = queue[q] as number;
      const h = cells.hi[i] as number;
      const l = cells.lo[i] as number;
      const c = cells.chk[i] as number;
      if ((h | l | c) === 0 || keyCheck(h, l) !== c || !keyHitsIndex(h, l, i)) continue;
      const key = h * 0x1000000 + l;
      keys.push(key);
      const w = new IndexWalk(h, l);
      for (let j = 0; j < end; j = w.next()) {
        xorKey(j, key);
        if (j !== i && ((cells.hi[j] as number) | (cells.lo[j] as number)) !== 0) queue.push(j);
      }
    }
    size = end;
    let zero = true;
    for (let i = 0; i < size; i++) {
      if (((cells.hi[i] as number) | (cells.lo[i] as number) | (cells.chk[i] as number)) !== 0) {
        zero = false;
      }
    }
    at.push(zero);
  }
  return { keys, at };
}

const sets = fc
  .tuple(
    fc.uniqueArray(key48, { maxLength: 40 }),
    fc.uniqueArray(key48, { minLength: 1, maxLength: 60 }),
  )
  .map(([shared, only]) => {
    const inShared = new Set(shared);
    const diff = only.filter((k) => !inShared.has(k));
    const a = [...shared, ...diff.filter((_, i) => i % 2 === 0)];
    const b = [...shared, ...diff.filter((_, i) => i % 2 === 1)];
    return { a, b, diff };
  });

test('one extension peels what peelCells peels: the same keys in the same order, the same verdict', () => {
  fc.assert(
    fc.property(sets, fc.integer({ min: 1, max: 150 }), ({ a, b }, m) => {
      const diff = xorCellsInto(encodeCells(a, 0, m), encodeCells(b, 0, m));
      const p = new IncrementalPeeler();
      p.extend(slice(diff, 0, m));
      const r = peelCells(slice(diff, 0, m));
      assert.deepEqual([...p.recovered()], r.keys);
      assert.equal(p.decoded, r.decoded);
    }),
    { numRuns: 300 },
  );
});

test('extension after extension, keys peel in the order of reconcile.md "Peeling" and decode at the same checkpoint', () => {
  fc.assert(
    fc.property(
      sets,
      fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }),
      ({ a, b, diff }, steps) => {
        const batches: number[] = [];
        let end = 0;
        for (const s of steps) batches.push((end += s));
        const cells = xorCellsInto(encodeCells(a, 0, end), encodeCells(b, 0, end));
        const want = modelPeel(cells, batches);
        const p = new IncrementalPeeler();
        const got: boolean[] = [];
        let from = 0;
        for (const to of batches) {
          p.extend(slice(cells, from, to));
          got.push(p.decoded);
          from = to;
        }
        assert.deepEqual([...p.recovered()], want.keys);
        assert.deepEqual(got, want.at);
        if (p.decoded) assert.deepEqual([...p.recovered()].sort(), [...diff].sort());
      },
    ),
    { numRuns: 300 },
  );
});
