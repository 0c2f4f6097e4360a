import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KeyTable, NO_ROW } from './key-table.ts';

// Few distinct keys, so that sets, overwrites and deletes of one key meet often; the wide
// ones land anywhere in the table, wrapping around its end.
const key = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 2 ** 48 - 1 }));
const op = fc.oneof(
  fc.record({ set: key, row: fc.nat(1_000_000) }),
  fc.record({ del: key }),
  fc.record({ del: fc.constant(-1) }),
);

test('the key table answers as a Map does after any sets and deletes, through every resize', () => {
  fc.assert(
    fc.property(fc.array(op, { minLength: 20, maxLength: 400, size: 'max' }), (ops) => {
      const table = new KeyTable(16);
      const model = new Map<number, number>();
      const seen: number[] = [];
      for (const o of ops) {
        if ('set' in o) {
          table.set(o.set, o.row);
          model.set(o.set, o.row);
          seen.push(o.set);
        } else {
          table.delete(o.del);
          model.delete(o.del);
        }
        assert.equal(table.size, model.size);
      }
      const copy = table.copy();
      for (const k of [...seen, -1, 41, 2 ** 48 - 1]) {
        assert.equal(table.get(k), model.get(k) ?? NO_ROW, `key ${k}`);
        assert.equal(copy.get(k), model.get(k) ?? NO_ROW, `copy, key ${k}`);
      }
    }),
    { numRuns: 1_000 },
  );
});

test('a copy is independent of the table it was made from', () => {
  const table = new KeyTable();
  table.set(7, 1);
  const copy = table.copy();
  copy.set(7, 2);
  copy.delete(7);
  table.set(8, 3);
  assert.equal(table.get(7), 1);
  assert.equal(copy.get(7), NO_ROW);
  assert.equal(copy.get(8), NO_ROW);
});

test('a key outside 0..2^48 - 1 or a table size that is no power of two is refused', () => {
  const table = new KeyTable();
  assert.throws(
    () => table.set(2 ** 48, 0),
    /expected a key in 0\.\.2\^48 - 1, got 281474976710656/,
  );
  assert.throws(() => table.set(-1, 0), RangeError);
  assert.throws(() => table.set(1.5, 0), RangeError);
  assert.throws(() => new KeyTable(24), /expected a power of two >= 16 slots, got 24/);
});
