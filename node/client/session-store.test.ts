import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Item } from '../../protocol/messages/records.ts';
import { hexOf } from '../../protocol/wire/hex.ts';
import { parseCertificate, sha256 } from '../pki/index.ts';
import { Store } from '../store/index.ts';
import { buildStandardPki, type StandardPki } from '../testing/openssl-pki.ts';
import { SessionStore } from './session-store.ts';

let pki: StandardPki;

before(async () => {
  pki = await buildStandardPki();
});
after(() => pki.cleanup());

const ORIGIN = new Uint8Array(16).fill(9);

function item(der: Uint8Array): Item {
  return { kind: 'cert', der, pinned: false, clock: 1, origin: ORIGIN };
}

function open(capacity: number | null, policy: 'lru' | 'alert' | 'refuse' = 'alert') {
  const store = Store.open(':memory:', { create: true, capacity, policy });
  return { store, view: new SessionStore(store, 'peer:test') };
}

test('add stores a new certificate once; a second copy is unchanged', () => {
  const { store, view } = open(null);
  const first = view.receive(item(pki.alice.der), 'add');
  assert.deepEqual(first.kind === 'done' && first.result.outcome, 'stored');
  const again = view.receive(item(pki.alice.der), 'add');
  assert.deepEqual(again.kind === 'done' && again.result.outcome, 'unchanged');
  assert.equal(store.certificates.list().length, 1);
  assert.equal(store.certificates.list()[0]?.source, 'peer:test');
  store.close();
});

test('a full alert store names end-entity candidates before CA certificates, and writes nothing', () => {
  const { store, view } = open(3);
  const parse = (d: Uint8Array) => parseCertificate(d);
  store.certificates.add([pki.root.der, pki.intermediate.der, pki.bob.der].map(parse), {
    source: 'test',
  });
  const out = view.receive(item(pki.alice.der), 'add');
  assert.equal(out.kind, 'overflow');
  if (out.kind !== 'overflow') return;
  assert.equal(hexOf(out.candidates[0]?.id as Uint8Array), hexOf(sha256(pki.bob.der)));
  assert.equal(store.certificates.list().length, 3);
  // The peer's user chose Bob: he goes, Alice comes, the count stays at capacity.
  const chosen = view.receive(item(pki.alice.der), 'add', hexOf(sha256(pki.bob.der)));
  assert.equal(chosen.kind === 'done' && chosen.result.outcome, 'updated');
  assert.equal(store.capacity.state().count, 3);
  store.close();
});

test('update replaces the expired certificate of the same address with a tombstone, without an offer', async () => {
  const { store, view } = open(null);
  const carol2 = await pki.pki.leaf('Carol Example', pki.intermediate, {
    email: 'carol@example.org',
  });
  store.certificates.add([parseCertificate(pki.carol.der)], { source: 'test' });
  const old = hexOf(sha256(pki.carol.der));
  // A replacement the user asked for: deleted at once, even when the peer may lack it.
  const out = view.receive(item(carol2.der), 'update');
  assert.equal(out.kind === 'done' && out.result.outcome, 'updated');
  assert.equal(out.kind === 'done' && hexOf(out.result.replaced as Uint8Array), old);
  assert.deepEqual(
    store.certificates.list().map((r) => r.fingerprintHex),
    [hexOf(sha256(carol2.der))],
  );
  const gone = store.sync.entry('cert', sha256(pki.carol.der));
  assert.equal(gone?.deleted, true, 'the replaced certificate has a tombstone');
  assert.deepEqual(gone?.origin, store.id, 'a local deletion');
  store.close();
});

test('a replace-all end removes what was not sent without tombstones', () => {
  const { store, view } = open(null);
  store.certificates.add(
    [pki.alice.der, pki.bob.der].map((d) => parseCertificate(d)),
    {
      source: 'test',
    },
  );
  view.receive(item(pki.dave.der), 'replace-all');
  const removed = view.removeAllExcept(new Set([hexOf(sha256(pki.dave.der))]));
  assert.equal(removed, 2);
  assert.equal(store.certificates.list().length, 1);
  assert.equal(store.sync.entries().filter((e) => e.deleted).length, 0, 'purged, not deleted');
  assert.deepEqual(view.read([hexOf(sha256(pki.alice.der))]), [], 'nothing to send a peer');
  assert.deepEqual(new SessionStore(store, 'x').digest(), view.digest());
  store.close();
});

test('bytes that are not a certificate are reported invalid, and nothing is written', () => {
  const { store, view } = open(null);
  const junk = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]);
  const out = view.receive(item(junk), 'add');
  assert.equal(out.kind === 'done' && out.result.outcome, 'invalid');
  assert.equal(store.certificates.list().length, 0);
  store.close();
});

test('the digest follows every write made through the session store', () => {
  const a = open(null);
  const b = open(null);
  a.view.receive(item(pki.alice.der), 'add');
  // A fresh view reads the file: its digest equals the one kept up to date in memory.
  assert.deepEqual(new SessionStore(a.store, 'x').digest(), a.view.digest());
  a.view.delete(hexOf(sha256(pki.alice.der)));
  assert.deepEqual(new SessionStore(a.store, 'x').digest(), a.view.digest());
  assert.notDeepEqual(a.view.digest().root, b.view.digest().root);
  a.store.close();
  b.store.close();
});

test('while collecting, received certificates are handed over and not stored', async () => {
  const { store, view } = open(null);
  const got = await view.collecting(async () => {
    view.receive(item(pki.bob.der), 'add');
  });
  assert.deepEqual([...got.keys()], [hexOf(sha256(pki.bob.der))]);
  assert.equal(store.certificates.list().length, 0);
  store.close();
});

test('a withheld certificate is left out of what a reconcile sees', () => {
  const { store } = open(null);
  store.certificates.add(
    [pki.alice.der, pki.carol.der].map((d) => parseCertificate(d)),
    {
      source: 'test',
    },
  );
  const carol = hexOf(sha256(pki.carol.der));
  const all = new SessionStore(store, 'x');
  const some = new SessionStore(store, 'x', new Set([carol]));
  assert.equal(all.digest().count, 2);
  assert.equal(some.digest().count, 1);
  assert.equal(some.get('cert', sha256(pki.carol.der)), null);
  assert.equal([...some.items()].length, 1);
  store.close();
});
