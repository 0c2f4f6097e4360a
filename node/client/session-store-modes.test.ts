/**
 * The transfer modes on a real SQLite store file, as the session store applies them
 * (spec/reconcile.md, "Transfer modes"; spec/protocol.md, "Last copies" and "Room in a
 * replace-all"): what is offered first, what is purged and what is deleted.
 */
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Item } from '../../protocol/messages/records.ts';
import type { ReceiveContext, ReceiveOutcome } from '../../protocol/session/store-view.ts';
import { hexOf } from '../../protocol/wire/hex.ts';
import { parseCertificate, sha256 } from '../pki/index.ts';
import { Store, type OverflowPolicy } from '../store/index.ts';
import {
  buildStandardPki,
  type StandardPki,
  type TestCertificate,
} from '../testing/openssl-pki.ts';
import { makeTempDir } from '../testing/temp-dir.ts';
import { SessionStore } from './session-store.ts';

let pki: StandardPki;
let temp: { dir: string; remove: () => void };
let files = 0;

before(async () => {
  pki = await buildStandardPki();
  temp = makeTempDir('certsync-modes-');
});
after(async () => {
  await pki.cleanup();
  temp.remove();
});

const ORIGIN = new Uint8Array(16).fill(9);
const item = (c: TestCertificate): Item => ({
  kind: 'cert',
  der: c.der,
  pinned: false,
  clock: 1,
  origin: ORIGIN,
});
const id = (c: TestCertificate): string => hexOf(sha256(c.der));

/** A store file holding `held` (in that order, so the first is least recently used). */
function open(held: TestCertificate[], capacity: number | null, policy: OverflowPolicy) {
  const path = join(temp.dir, `store-${files++}.sqlite`);
  const store = Store.open(path, { create: true, capacity: null, policy });
  for (const c of held) store.certificates.add([parseCertificate(c.der)], { source: 'test' });
  store.capacity.set({ capacity });
  return { path, store, view: new SessionStore(store, 'peer:test') };
}

function knowing(peerHolds: TestCertificate[] = [], carried: TestCertificate[] = []) {
  return {
    peerHolds: new Set(peerHolds.map(id)),
    carried: new Set(carried.map(id)),
  } satisfies ReceiveContext;
}

function result(out: ReceiveOutcome) {
  assert.equal(out.kind, 'done', `expected a result, got ${JSON.stringify(out)}`);
  if (out.kind !== 'done') throw new Error('unreachable');
  const r = out.result;
  return [r.outcome, r.replaced ? hexOf(r.replaced) : r.code];
}

const live = (store: Store) => store.certificates.list('store').map((r) => r.fingerprintHex);
const tombstones = (store: Store) => store.sync.entries().filter((e) => e.deleted).length;

test('lru: a victim the peer may lack is offered first, then evicted without a tombstone', () => {
  const { store, view } = open([pki.alice, pki.bob], 2, 'lru');
  const first = view.receive(item(pki.dave), 'add', undefined, knowing());
  assert.deepEqual(first, { kind: 'offer-first', victim: id(pki.alice) });
  assert.deepEqual(live(store), [id(pki.alice), id(pki.bob)], 'nothing written before');
  const second = view.receive(item(pki.dave), 'add', id(pki.alice), knowing());
  assert.deepEqual(result(second), ['updated', id(pki.alice)]);
  assert.deepEqual(live(store), [id(pki.bob), id(pki.dave)]);
  assert.equal(tombstones(store), 0, 'an eviction is not a deletion');
  store.close();
});

test('lru: a victim the session knows the peer holds is evicted at once', () => {
  const { store, view } = open([pki.alice, pki.bob], 2, 'lru');
  const out = view.receive(item(pki.dave), 'add', undefined, knowing([pki.alice]));
  assert.deepEqual(result(out), ['updated', id(pki.alice)]);
  assert.equal(tombstones(store), 0);
  store.close();
});

test('lru never evicts what the transfer carried: with nothing else, the item is refused', () => {
  const { store, view } = open([pki.alice, pki.bob], 2, 'lru');
  const out = view.receive(item(pki.dave), 'add', undefined, knowing([], [pki.alice, pki.bob]));
  assert.deepEqual(result(out), ['refused', 'store-full']);
  assert.deepEqual(live(store), [id(pki.alice), id(pki.bob)]);
  store.close();
});

test('update: the replaced record goes at once, unoffered, as a tombstone above its clock', async () => {
  const carol2 = await pki.pki.leaf('Carol Example', pki.intermediate, {
    email: 'carol@example.org',
  });
  const { store, view } = open([pki.carol, pki.alice], null, 'lru');
  const before = store.sync.entry('cert', sha256(pki.carol.der));
  const out = view.receive(item(carol2), 'update', undefined, knowing());
  assert.deepEqual(result(out), ['updated', id(pki.carol)]);
  const gone = store.sync.entry('cert', sha256(pki.carol.der));
  assert.equal(gone?.deleted, true);
  assert.ok((gone?.clock ?? 0) > (before?.clock ?? Infinity), 'stamped with the store clock');
  assert.deepEqual(live(store), [id(pki.alice), id(carol2)]);
  // A record this transfer carried is part of the selection: it is never replaced.
  const carol3 = await pki.pki.leaf('Carol Example', pki.intermediate, {
    email: 'carol@example.org',
  });
  const added = view.receive(item(carol3), 'update', undefined, knowing([carol2], [carol2]));
  assert.deepEqual(result(added), ['stored', undefined]);
  store.close();
});

test('update: when the new record cannot be stored, the old one stays, with no tombstone', async () => {
  const carol2 = await pki.pki.leaf('Carol Example', pki.intermediate, {
    email: 'carol@example.org',
  });
  const { path, store, view } = open([pki.carol], null, 'lru');
  // Another writer's trigger makes the insert of the new certificate fail inside the write.
  const other = new Database(path);
  other.exec(`CREATE TRIGGER no_new BEFORE INSERT ON certificates
    BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`);
  other.close();
  assert.throws(() => view.receive(item(carol2), 'update', id(pki.carol), knowing()));
  assert.deepEqual(live(store), [id(pki.carol)]);
  assert.equal(tombstones(store), 0, 'the deletion rolled back with the store');
  store.close();
});

for (const policy of ['lru', 'alert', 'refuse'] as const) {
  test(`replace-all into a full ${policy} store makes room from what it does not carry`, () => {
    const { store, view } = open([pki.alice, pki.bob, pki.carol], 3, policy);
    store.certificates.setMeta(sha256(pki.alice.der), { pinned: true });
    // Unpinned before pinned, the least recently used first.
    const asked = view.receive(item(pki.dave), 'replace-all', undefined, knowing());
    assert.deepEqual(asked, { kind: 'offer-first', victim: id(pki.bob) });
    const stored = view.receive(item(pki.dave), 'replace-all', id(pki.bob), knowing());
    assert.deepEqual(result(stored), ['updated', id(pki.bob)]);
    // One the peer is known to hold goes first, without an offer, pinned or not.
    const next = view.receive(item(pki.root), 'replace-all', undefined, knowing([pki.alice]));
    assert.deepEqual(result(next), ['updated', id(pki.alice)]);
    assert.deepEqual(live(store), [id(pki.carol), id(pki.dave), id(pki.root)]);
    assert.equal(tombstones(store), 0, 'room is made by purging');
    // Never what the transfer carried: with only that left, the item is refused.
    const carried = [pki.dave, pki.root, pki.carol];
    const full = view.receive(
      item(pki.intermediate),
      'replace-all',
      undefined,
      knowing([], carried),
    );
    assert.deepEqual(result(full), ['refused', 'store-full']);
    assert.equal(store.capacity.state().count, 3);
    store.close();
  });
}
