import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { EVICT_ANY, MemoryStore } from '../merge/memory-store.ts';
import { encodeCells } from './riblt.ts';
import { SketchPrefix } from './sketch-prefix.ts';

const key48 = fc.integer({ min: 0, max: 2 ** 48 - 1 });

test('a kept prefix equals the cells coded afresh from the set, after any adds and removes', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(key48, { maxLength: 80 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      fc.integer({ min: 1, max: 300 }),
      (keys, removals, size) => {
        const prefix = new SketchPrefix(size);
        const held = new Set(keys);
        for (const k of keys) prefix.toggle(k);
        for (const r of removals) {
          const k = keys[r % Math.max(1, keys.length)];
          if (k === undefined || !held.has(k)) continue;
          prefix.toggle(k);
          held.delete(k);
        }
        const fresh = encodeCells([...held], 0, size);
        const kept = prefix.read(0, size);
        assert.ok(kept !== null);
        assert.deepEqual(kept, fresh);
        assert.deepEqual(prefix.read(size - 1, size), encodeCells([...held], size - 1, size));
        assert.equal(prefix.read(0, size + 1), null, 'past the prefix: the caller codes it');
      },
    ),
  );
});

test("a memory store's sketch cells follow imports, relabels and deletions", () => {
  const store = new MemoryStore({ origin: new Uint8Array(16).fill(3) });
  const fp = (i: number) => Uint8Array.from({ length: 32 }, (_, j) => (i * 31 + j * 7) & 0xff);
  for (let i = 0; i < 50; i++) store.importEntry('cert', fp(i), Uint8Array.of(i), undefined);
  for (let i = 0; i < 10; i++) store.deleteEntry('cert', fp(i));
  for (let i = 10; i < 20; i++) store.setMeta('cert', fp(i), { label: `x${i}`, pinned: false });
  store.apply(
    { ...store.get('cert', fp(30))!, clock: 1_000, meta: { label: 'peer', pinned: true } },
    EVICT_ANY,
  );
  const keys = [...store.items()].map((i) => i.key);
  assert.deepEqual(store.sketchCells(0, 64), encodeCells(keys, 0, 64));
  assert.deepEqual(store.sketchCells(100, 164), encodeCells(keys, 100, 164));
});
