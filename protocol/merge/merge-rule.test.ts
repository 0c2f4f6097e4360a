import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compareVersions, type Entry } from './entry.ts';
import { decideMerge } from './merge-rule.ts';
import { EVICT_ANY, MemoryStore } from './memory-store.ts';
import { originOf, universeDer, universeFingerprint } from '../testing/store-arbitraries.ts';

const fp = universeFingerprint(0);
const der = universeDer(0);
const v = (clock: number, o: number, deleted = false, withDer = !deleted): Entry => ({
  kind: 'cert',
  fingerprint: fp,
  deleted,
  clock,
  origin: originOf(o),
  der: withDer ? der : null,
  meta: { label: deleted ? null : `v${clock}`, pinned: false },
});

test('versions order by clock, then by origin bytes', () => {
  assert.ok(compareVersions(v(2, 0), v(1, 9)) > 0);
  assert.ok(compareVersions(v(2, 1), v(2, 2)) < 0);
  assert.equal(compareVersions(v(3, 4), v(3, 4)), 0);
});

test('a deletion beats an older copy; an older deletion does not beat a newer copy', () => {
  const d = decideMerge(v(1, 1), v(2, 1, true));
  assert.equal(d.kind, 'take');
  assert.equal(d.kind === 'take' && d.entry.deleted, true);
  assert.equal(decideMerge(v(3, 1), v(2, 1, true)).kind, 'keep');
});

test('a re-import after a deletion beats it; without DER it asks for the DER', () => {
  const full = decideMerge(v(2, 1, true), v(3, 2));
  assert.equal(full.kind === 'take' && full.needsRoom, true);
  assert.equal(decideMerge(v(2, 1, true), v(3, 2, false, false)).kind, 'needs-der');
  assert.equal(decideMerge(null, v(3, 2, false, false)).kind, 'needs-der');
});

test('a metadata-only version over a live copy keeps the local DER and needs no room', () => {
  const d = decideMerge(v(1, 1), v(2, 2, false, false));
  assert.equal(d.kind, 'take');
  if (d.kind === 'take') {
    assert.deepEqual(d.entry.der, der);
    assert.equal(d.entry.meta.label, 'v2');
    assert.equal(d.needsRoom, false);
  }
});

test('merge is commutative: two versions applied in either order leave the same record', () => {
  fc.assert(
    fc.property(
      fc.tuple(fc.nat(5), fc.nat(3), fc.boolean()),
      fc.tuple(fc.nat(5), fc.nat(3), fc.boolean()),
      ([c1, o1, d1], [c2, o2, d2]) => {
        const x = v(c1, o1, d1);
        const y = v(c2, o2, d2);
        if (compareVersions(x, y) === 0 && d1 !== d2) return;
        const s1 = new MemoryStore({ origin: originOf(7) });
        const s2 = new MemoryStore({ origin: originOf(8) });
        s1.apply(x, EVICT_ANY);
        s1.apply(y, EVICT_ANY);
        s2.apply(y, EVICT_ANY);
        s2.apply(x, EVICT_ANY);
        assert.deepEqual(s1.get('cert', fp), s2.get('cert', fp));
        assert.deepEqual(s1.digest().root, s2.digest().root);
      },
    ),
  );
});

test('a full store follows its policy: refuse, alert, lru (never a pinned entry)', () => {
  for (const policy of ['refuse', 'alert'] as const) {
    const s = new MemoryStore({ origin: originOf(1), capacity: 1, policy });
    s.importEntry('cert', universeFingerprint(1), universeDer(1));
    const r = s.importEntry('cert', universeFingerprint(2), universeDer(2));
    assert.deepEqual(r, {
      kind: 'refused',
      code: policy === 'refuse' ? 'store-full' : 'overflow-alert',
    });
    assert.equal(s.capacityInfo().live, 1);
  }
  const s = new MemoryStore({ origin: originOf(1), capacity: 2, policy: 'lru' });
  s.importEntry('cert', universeFingerprint(1), universeDer(1), { label: null, pinned: true });
  s.importEntry('cert', universeFingerprint(2), universeDer(2));
  s.touch('cert', universeFingerprint(1));
  const r = s.importEntry('cert', universeFingerprint(3), universeDer(3));
  assert.equal(r.kind, 'stored');
  assert.deepEqual(r.kind === 'stored' && r.evicted?.fingerprint, universeFingerprint(2));
  assert.equal(s.get('cert', universeFingerprint(1))?.deleted, false);
  const full = s.apply(v(9, 3), { mayEvict: () => false });
  assert.deepEqual(full, { kind: 'refused', code: 'store-full' });
});

test('tombstones do not count against capacity', () => {
  const s = new MemoryStore({ origin: originOf(1), capacity: 1, policy: 'refuse' });
  s.importEntry('cert', universeFingerprint(1), universeDer(1));
  s.deleteEntry('cert', universeFingerprint(1));
  assert.equal(s.importEntry('cert', universeFingerprint(2), universeDer(2)).kind, 'stored');
  assert.equal(s.tombstones().length, 1);
});
