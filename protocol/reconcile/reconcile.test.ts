import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compareVersions, recordKey, type Entry } from '../merge/entry.ts';
import type { MemoryStore } from '../merge/memory-store.ts';
import {
  buildStores,
  cappedScenario,
  scenario,
  universeFingerprint,
  universeKind,
  universeDer,
} from '../testing/store-arbitraries.ts';
import { assertSameContent, assertWithinCapacity } from '../testing/store-assertions.ts';
import { CapacityCheckedStore } from '../testing/checked-store.ts';
import { runSync, type SyncRun } from '../testing/sync-loop.ts';
import { EVICT_ANY, MemoryStore as Store } from '../merge/memory-store.ts';
import { CertsyncError } from '../errors.ts';
import { sha256 } from '@noble/hashes/sha2.js';
import { ESTIMATOR_BYTES } from './estimator.ts';
import { itemHash, keyNumber, sketchKey } from './item-hash.ts';
import { Reconciler } from './reconciler.ts';
import { originOf } from '../testing/store-arbitraries.ts';

/** The stated bound, in flights: spec/reconcile.md, "Round trips and bytes". */
function flightBound(run: SyncRun): number {
  const r = run.a;
  // Key lists chosen at the start cost nothing extra; after a sketch that reached its cap,
  // one flight; wide lists one more; a DER request two.
  const lists = r.mode === 'keys' && r.checkpoints > 0 ? 1 : 0;
  const wide = r.mode === 'wide' ? 2 : 0;
  const wants = run.a.wantsSent + run.b.wantsSent > 0 ? 2 : 0;
  return 3 + lists + wide + wants;
}

function newest(stores: readonly MemoryStore[]): Map<string, Entry> {
  const best = new Map<string, Entry>();
  for (const s of stores) {
    for (const e of [...s.liveEntries(), ...s.tombstones()]) {
      const k = recordKey(e);
      const cur = best.get(k);
      if (cur === undefined || compareVersions(e, cur) > 0) best.set(k, e);
    }
  }
  return best;
}

test('two-way reconcile converges within 1.5 round trips, +0.5 for a list after a full sketch, +1 for wide lists or a DER request', () => {
  fc.assert(
    fc.property(scenario(2), (s) => {
      const [a, b] = buildStores(s) as [MemoryStore, MemoryStore];
      const run = runSync(a, b);
      assertSameContent(a, b);
      assert.ok(run.flights <= flightBound(run), `${run.flights} flights`);
      assert.equal(run.a.checkpoints, run.b.checkpoints, 'both sides decode at one checkpoint');
      assert.equal(run.a.mode, run.b.mode, 'both sides find the difference the same way');
      if (run.a.mode === 'sketch' && run.a.wantsSent + run.b.wantsSent === 0) {
        assert.ok(run.flights <= 3, 'a sketch that decodes ends in 1.5 round trips');
      }
    }),
    { numRuns: 200 },
  );
});

test('reconcile is idempotent: a second reconcile ends at the hellos and changes nothing', () => {
  fc.assert(
    fc.property(scenario(2), (s) => {
      const [a, b] = buildStores(s) as [MemoryStore, MemoryStore];
      runSync(a, b);
      const rootA = a.digest().root;
      const again = runSync(a, b);
      assert.equal(again.flights, 1);
      assert.equal(again.aToB.entries + again.bToA.entries, 0);
      assert.deepEqual(a.digest().root, rootA);
      assertSameContent(a, b);
    }),
    { numRuns: 100 },
  );
});

test('three stores synced pairwise in any order converge', () => {
  const pairs: [number, number][] = [
    [0, 1],
    [1, 2],
    [0, 2],
  ];
  fc.assert(
    fc.property(
      scenario(3),
      fc.shuffledSubarray(pairs, { minLength: 3, maxLength: 3 }),
      fc.array(fc.constantFrom(...pairs), { maxLength: 3 }),
      (s, order, extra) => {
        const stores = buildStores(s);
        const expected = newest(stores);
        for (const [i, j] of [...extra, ...order]) runSync(stores[i]!, stores[j]!);
        assertSameContent(stores[0]!, stores[1]!);
        assertSameContent(stores[1]!, stores[2]!);
        const got = newest([stores[0]!]);
        assert.deepEqual([...got.keys()].sort(), [...expected.keys()].sort());
      },
    ),
    { numRuns: 100 },
  );
});

test('a deletion beats an older copy and a re-import beats the deletion: the newest version wins on both sides', () => {
  fc.assert(
    fc.property(scenario(2), (s) => {
      const [a, b] = buildStores(s) as [MemoryStore, MemoryStore];
      const expected = newest([a, b]);
      runSync(a, b);
      for (const store of [a, b]) {
        for (const [k, want] of expected) {
          const [kind, hex] = k.split(':') as ['cert' | 'crl', string];
          const got = store.get(kind, Uint8Array.from(Buffer.from(hex, 'hex')));
          assert.ok(got !== null, `${k} missing`);
          assert.equal(compareVersions(got, want), 0, `${k} not at the newest version`);
          assert.equal(got.deleted, want.deleted);
        }
      }
    }),
    { numRuns: 100 },
  );
});

test('a deletion reaches the peer, and a later re-import there comes back', () => {
  const a = new Store({ origin: originOf(1) });
  const b = new Store({ origin: originOf(2) });
  const kind = universeKind(0);
  const fp = universeFingerprint(0);
  a.importEntry(kind, fp, universeDer(0));
  runSync(a, b);
  assert.equal(b.get(kind, fp)?.deleted, false);
  a.deleteEntry(kind, fp);
  const del = runSync(a, b);
  assert.equal(b.get(kind, fp)?.deleted, true);
  assert.equal(del.a.sentDeleted, 1);
  b.importEntry(kind, fp, universeDer(0));
  const back = runSync(a, b);
  assert.equal(a.get(kind, fp)?.deleted, false);
  assert.deepEqual(a.get(kind, fp)?.der, universeDer(0));
  assert.ok(back.flights <= 5, 'a re-import after a deletion costs at most one DER request');
});

test('a metadata change travels without the DER', () => {
  const a = new Store({ origin: originOf(1) });
  const b = new Store({ origin: originOf(2) });
  const kind = universeKind(1);
  const fp = universeFingerprint(1);
  a.importEntry(kind, fp, universeDer(1));
  runSync(a, b);
  b.setMeta(kind, fp, { label: 'work', pinned: true });
  const run = runSync(a, b);
  assert.equal(run.b.sentMeta, 1);
  assert.equal(run.b.sentFull, 0);
  assert.equal(run.flights, 3);
  assert.deepEqual(a.get(kind, fp)?.meta, { label: 'work', pinned: true });
});

test('capacity is never exceeded, after any write of a reconcile', () => {
  fc.assert(
    fc.property(cappedScenario(2), (s) => {
      const [a, b] = buildStores(s) as [MemoryStore, MemoryStore];
      assertWithinCapacity(a);
      assertWithinCapacity(b);
      runSync(new CapacityCheckedStore(a), new CapacityCheckedStore(b));
      assertWithinCapacity(a);
      assertWithinCapacity(b);
    }),
    { numRuns: 150 },
  );
});

test('no last copy is lost: every record whose newest version is live stays live somewhere', () => {
  fc.assert(
    fc.property(cappedScenario(2), (s) => {
      const [a, b] = buildStores(s) as [MemoryStore, MemoryStore];
      const expected = newest([a, b]);
      const liveBefore = new Set([...a.liveEntries(), ...b.liveEntries()].map((e) => recordKey(e)));
      runSync(a, b);
      const liveAfter = new Set([...a.liveEntries(), ...b.liveEntries()].map((e) => recordKey(e)));
      for (const k of liveBefore) {
        if (expected.get(k)?.deleted === true) continue;
        assert.ok(liveAfter.has(k), `${k} was live before and is gone from both stores`);
      }
    }),
    { numRuns: 150 },
  );
});

test('two versions that share a sketch key still converge, through the item-hash list', () => {
  const kind = universeKind(2);
  const fp = universeFingerprint(2);
  const der = universeDer(2);
  const oa = originOf(1);
  const ob = originOf(2);
  const version = (clock: number, origin: Uint8Array): Entry => ({
    kind,
    fingerprint: fp,
    deleted: false,
    clock,
    origin,
    der,
    meta: { label: null, pinned: false },
  });
  const keyOf = (e: Entry): number => {
    const h = itemHash(e);
    const k = sketchKey(e, h);
    return keyNumber(k.hi, k.lo);
  };
  const seen = new Map<number, number>();
  for (let c = 1; c <= 6000; c++) seen.set(keyOf(version(c, oa)), c);
  let pair: [number, number] | null = null;
  for (let c = 1; c <= 6000 && pair === null; c++) {
    const hit = seen.get(keyOf(version(c, ob)));
    if (hit !== undefined) pair = [hit, c];
  }
  assert.ok(pair !== null, 'no colliding pair among the versions tried');
  const a = new Store({ origin: oa });
  const b = new Store({ origin: ob });
  a.apply(version(pair[0], oa), EVICT_ANY);
  b.apply(version(pair[1], ob), EVICT_ANY);
  const run = runSync(a, b);
  assert.equal(run.a.mode, 'wide');
  assertSameContent(a, b);
});

test('an entry whose DER does not hash to its fingerprint is malformed; cells out of order are unexpected', () => {
  const a = new Store({ origin: originOf(1) });
  const b = new Store({ origin: originOf(2) });
  a.importEntry(universeKind(3), universeFingerprint(3), universeDer(3));
  const ra = new Reconciler(a);
  const rb = new Reconciler(b);
  const helloA = ra.hello();
  const helloB = rb.hello();
  const fromA = ra.begin(helloB);
  rb.begin(helloA);
  assert.throws(
    () => rb.receive({ type: 'cells', start: 5, cells: new Uint8Array(8) }),
    (err: unknown) => err instanceof CertsyncError && err.code === 'unexpected-message',
  );
  for (const m of fromA) rb.receive(m);
  const forged: Entry = {
    kind: universeKind(3),
    fingerprint: universeFingerprint(3),
    deleted: false,
    clock: 99,
    origin: originOf(1),
    der: universeDer(4),
    meta: { label: null, pinned: false },
  };
  assert.throws(
    () => rb.receive({ type: 'entry', entry: forged }),
    (err: unknown) => err instanceof CertsyncError && err.code === 'malformed-message',
  );
  assert.equal(b.get(forged.kind, forged.fingerprint), null);
});

/** Two stores that share `shared` entries and each hold `own` more of their own. */
function pairWith(shared: number, own: number): [Store, Store] {
  const a = new Store({ origin: originOf(1) });
  const b = new Store({ origin: originOf(2) });
  const der = (i: number) => Uint8Array.of(0x30, 3, 2, 1, i & 0xff, (i >> 8) & 0xff);
  const put = (s: Store, i: number) => s.importEntry('cert', sha256(der(i)), der(i));
  for (let i = 0; i < shared; i++) {
    put(a, i);
    b.apply(a.get('cert', sha256(der(i)))!, EVICT_ANY);
  }
  for (let i = 0; i < own; i++) {
    put(a, 10_000 + i);
    put(b, 20_000 + i);
  }
  return [a, b];
}

test('a small difference is found by syndromes, a large one by cells, both in 1.5 round trips', () => {
  const [a, b] = pairWith(300, 3);
  const small = runSync(a, b);
  assert.equal(small.a.mode, 'syndromes');
  assert.equal(small.flights, 3);
  assert.equal(small.a.cellsSent, 0);
  assertSameContent(a, b);
  const [c, d] = pairWith(300, 60);
  const large = runSync(c, d);
  assert.equal(large.a.mode, 'sketch');
  assert.equal(large.a.syndromesSent, 0);
  assert.equal(large.flights, 3);
  assertSameContent(c, d);
});

test('an estimate far below the difference costs only time: syndromes run to their cap, then cells take over', () => {
  const [a, b] = pairWith(200, 50);
  // Both hellos claim the same estimator, so the estimate is 0 for a difference of 100.
  const blind = (s: Store): Store =>
    new Proxy(s, {
      get(target, key, receiver) {
        if (key === 'digest') {
          return () => ({ ...target.digest(), estimator: new Uint8Array(ESTIMATOR_BYTES) });
        }
        const v: unknown = Reflect.get(target, key, receiver);
        return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(target) : v;
      },
    });
  const run = runSync(blind(a), blind(b));
  assert.equal(run.a.mode, 'sketch', 'cells took over');
  assert.equal(run.a.syndromesSent, 64, 'syndromes ran to their cap');
  assert.equal(run.flights, 4, 'one flight more than a good estimate');
  assertSameContent(a, b);
  assert.equal(a.liveEntries().length, 300);
});

test('syndromes out of order are unexpected, past the cap a limit, and cells in a syndrome run unexpected', () => {
  const [a, b] = pairWith(20, 1);
  const ra = new Reconciler(a);
  const rb = new Reconciler(b);
  const helloA = ra.hello();
  ra.begin(rb.hello());
  rb.begin(helloA);
  const code = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (err) {
      return err instanceof CertsyncError ? err.code : 'not a CertsyncError';
    }
    return undefined;
  };
  const six = (n: number) => new Uint8Array(6 * n);
  assert.equal(
    code(() => rb.receive({ type: 'syndromes', start: 3, syndromes: six(1) })),
    'unexpected-message',
  );
  assert.equal(
    code(() => rb.receive({ type: 'syndromes', start: 0, syndromes: six(65) })),
    'limit-exceeded',
  );
  assert.equal(
    code(() => rb.receive({ type: 'cells', start: 0, cells: new Uint8Array(8) })),
    'unexpected-message',
  );
});
