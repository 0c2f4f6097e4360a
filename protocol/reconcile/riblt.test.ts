import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  cellsFromBytes,
  cellsToBytes,
  encodeCells,
  IndexWalk,
  keyHitsIndex,
  peelCells,
  SketchEncoder,
  xorCellsInto,
} from './riblt.ts';

const key48 = fc.integer({ min: 1, max: 2 ** 48 - 1 });

test('sketch encode/decode round trips: a long enough prefix of two sets peels to exactly their difference', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(key48, { minLength: 0, maxLength: 60 }),
      fc.uniqueArray(key48, { minLength: 1, maxLength: 40 }),
      fc.nat(),
      (shared, diff, split) => {
        const a = [...shared];
        const b = [...shared];
        const inShared = new Set(shared);
        const only = diff.filter((k) => !inShared.has(k));
        only.forEach((k, i) => ((i + split) % 2 === 0 ? a : b).push(k));
        // Short sketches may not peel (two keys can share every cell of a prefix), so the
        // prefix grows by a quarter at a time, up to a generous cap.
        const cap = 64 * only.length + 64;
        for (let m = 2 * only.length + 3; ; m += Math.ceil(m / 4)) {
          assert.ok(m <= cap, `${only.length} differences did not peel in ${cap} cells`);
          const r = peelCells(xorCellsInto(encodeCells(a, 0, m), encodeCells(b, 0, m)));
          if (!r.decoded) continue;
          assert.deepEqual([...r.keys].sort(), [...only].sort());
          break;
        }
      },
    ),
    { numRuns: 200 },
  );
});

test('cells serialise to 8 bytes each and back', () => {
  fc.assert(
    fc.property(fc.array(key48, { maxLength: 30 }), fc.integer({ min: 1, max: 40 }), (keys, m) => {
      const cells = encodeCells(keys, 0, m);
      const bytes = cellsToBytes(cells);
      assert.equal(bytes.length, 8 * m);
      assert.deepEqual(cellsFromBytes(bytes), cells);
    }),
  );
});

test('a range of cells equals the same slice of a longer prefix (the sketch is rateless)', () => {
  fc.assert(
    fc.property(
      fc.array(key48, { maxLength: 50 }),
      fc.nat(30),
      fc.integer({ min: 1, max: 30 }),
      (keys, from, len) => {
        const whole = encodeCells(keys, 0, from + len);
        const part = encodeCells(keys, from, from + len);
        assert.deepEqual(part.hi, whole.hi.slice(from));
        assert.deepEqual(part.chk, whole.chk.slice(from));
      },
    ),
  );
});

test('the batch encoder codes the same cells as coding each range from scratch', () => {
  fc.assert(
    fc.property(
      fc.array(key48, { maxLength: 50 }),
      fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 4 }),
      (keys, steps) => {
        const enc = new SketchEncoder(keys);
        let from = 0;
        for (const step of steps) {
          const got = enc.next(from + step);
          assert.deepEqual(got, encodeCells(keys, from, from + step));
          from += step;
        }
        assert.throws(() => enc.next(from), RangeError);
      },
    ),
  );
});

test('every key is in cell 0 and in cell i with probability close to 1/(1 + i/2)', () => {
  const hits = new Map<number, number>();
  const N = 4000;
  for (let k = 1; k <= N; k++) {
    const w = new IndexWalk(k * 7919, (k * 104729) % 0x1000000);
    for (let i = w.next(); i < 64; i = w.next()) hits.set(i, (hits.get(i) ?? 0) + 1);
  }
  for (const i of [1, 4, 16, 63]) {
    const p = (hits.get(i) ?? 0) / N;
    const want = 1 / (1 + i / 2);
    assert.ok(Math.abs(p - want) < 0.25 * want + 0.01, `cell ${i}: ${p} vs ${want}`);
  }
  assert.ok(keyHitsIndex(5, 6, 0));
});

test('a prefix too short for the difference reports that it did not decode', () => {
  const keys = Array.from({ length: 200 }, (_, i) => (i + 1) * 1_000_003);
  const r = peelCells(encodeCells(keys, 0, 40));
  assert.equal(r.decoded, false);
});

test('a bad cell byte length is a RangeError naming the expected multiple', () => {
  assert.throws(() => cellsFromBytes(new Uint8Array(9)), /multiple of 8/);
  assert.throws(() => encodeCells([1], 5, 5), RangeError);
});
