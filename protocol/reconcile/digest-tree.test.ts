import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DigestTree } from './digest-tree.ts';
import { ESTIMATOR_BYTES, estimateDifference, flipEstimator } from './estimator.ts';

const hash16 = fc.uint8Array({ minLength: 16, maxLength: 16 });

function treeOf(hashes: readonly Uint8Array[]): DigestTree {
  const t = new DigestTree();
  for (const h of hashes) t.toggle(h, 1);
  return t;
}

test('the digest root depends on the set, not on the order of writes', () => {
  fc.assert(
    fc.property(fc.uniqueArray(hash16, { maxLength: 40, selector: (h) => h.join() }), (hs) => {
      assert.deepEqual(treeOf(hs).root(), treeOf([...hs].reverse()).root());
    }),
  );
});

test('the incrementally kept root equals the root rebuilt from scratch after adds and removes', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(hash16, { minLength: 1, maxLength: 40, selector: (h) => h.join() }),
      fc.nat(),
      (hs, cut) => {
        const t = treeOf(hs);
        t.root();
        const k = cut % hs.length;
        for (const h of hs.slice(0, k)) t.toggle(h, -1);
        assert.deepEqual(t.root(), treeOf(hs.slice(k)).root());
        assert.equal(t.count, hs.length - k);
      },
    ),
  );
});

test('one more entry changes the root', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(hash16, { minLength: 2, maxLength: 30, selector: (h) => h.join() }),
      (hs) => {
        assert.notDeepEqual(treeOf(hs).root(), treeOf(hs.slice(1)).root());
      },
    ),
  );
});

test('the estimator of two sets estimates their difference: 0 when equal, near d otherwise', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(hash16, { minLength: 1, maxLength: 12, selector: (h) => h.join() }),
      (hs) => {
        const a = new Uint8Array(ESTIMATOR_BYTES);
        const b = new Uint8Array(ESTIMATOR_BYTES);
        assert.equal(estimateDifference(a, b), 0);
        for (const h of hs) flipEstimator(a, h);
        const est = estimateDifference(a, b);
        assert.ok(est <= 3 * hs.length + 2, `estimate ${est} for ${hs.length}`);
      },
    ),
  );
});
