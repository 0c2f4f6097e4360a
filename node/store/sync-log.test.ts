import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isCertsyncError } from '../../protocol/errors.ts';
import { parseCertificate, parseCrl, type ParsedCertificate } from '../pki/index.ts';
import { buildStandardPki, type StandardPki } from '../testing/openssl-pki.ts';
import { makeTempDir } from '../testing/temp-dir.ts';
import { Store, type SyncEntry } from './index.ts';

let pki: StandardPki;
let tmp: ReturnType<typeof makeTempDir>;
let alice: ParsedCertificate;
let bob: ParsedCertificate;
let n = 0;
let time = 1_800_000_000_000;

const DAY = 86_400_000;

function freshStore(): Store {
  return Store.open(join(tmp.dir, `s${++n}.sqlite`), { create: true, now: () => time });
}

const originA = new Uint8Array(16).fill(0xaa);
const originB = new Uint8Array(16).fill(0xbb);

function remote(fp: Uint8Array, clock: number, deleted = false, origin = originA): SyncEntry {
  return { kind: 'cert', fingerprint: fp, deleted, clock, origin };
}

before(async () => {
  pki = await buildStandardPki();
  tmp = makeTempDir();
  alice = parseCertificate(pki.alice.der);
  bob = parseCertificate(pki.bob.der);
});

after(async () => {
  tmp.remove();
  await pki.cleanup();
});

describe('SyncLog', () => {
  it('lists live entries and tombstones with their clock and origin', () => {
    const store = freshStore();
    store.certificates.add([alice, bob], { source: 't' });
    store.crls.add([parseCrl(pki.crl.bytes)], 't');
    store.certificates.delete([bob.fingerprint]);
    const entries = store.sync.entries();
    assert.equal(entries.length, 3);
    const byKind = entries.map((e) => `${e.kind}:${e.deleted}:${e.clock}`).sort();
    assert.deepEqual(byKind, ['cert:false:1', 'cert:true:4', 'crl:false:3']);
    assert.ok(entries.every((e) => Buffer.compare(e.origin, store.id) === 0));
    store.close();
  });

  it('entriesChangedSince returns what changed after a counter, in change order', () => {
    const store = freshStore();
    store.certificates.add([alice], { source: 't' });
    const mark = store.sync.counter();
    store.certificates.add([bob], { source: 't' });
    store.certificates.delete([alice.fingerprint]);
    const { entries, counter } = store.sync.entriesChangedSince(mark);
    assert.deepEqual(
      entries.map((e) => [e.deleted, Buffer.from(e.fingerprint).toString('hex')]),
      [
        [false, bob.fingerprintHex],
        [true, alice.fingerprintHex],
      ],
    );
    assert.equal(counter, 3);
    assert.deepEqual(store.sync.entriesChangedSince(counter).entries, []);
    store.close();
  });

  it('applies a remote add, observing the Lamport rule', () => {
    const store = freshStore();
    const out = store.sync.applyRemote(remote(alice.fingerprint, 41), {
      der: pki.alice.der,
      source: 'peer:phone',
      label: 'A',
    });
    assert.equal(out.applied, true);
    assert.equal(store.sync.counter(), 42);
    const got = store.certificates.get(alice.fingerprint);
    assert.equal(got?.clock, 41);
    assert.deepEqual(got?.origin, originA);
    assert.equal(got?.label, 'A');
    assert.equal(got?.source, 'peer:phone');
    assert.equal(store.sync.entriesChangedSince(41).entries.length, 1, 'seq is the local counter');
    store.close();
  });

  it('last writer wins by (clock, origin); an older or equal entry changes nothing', () => {
    const store = freshStore();
    store.sync.applyRemote(remote(alice.fingerprint, 10, false, originB), {
      der: pki.alice.der,
      label: 'B',
    });
    assert.equal(
      store.sync.applyRemote(remote(alice.fingerprint, 9), { label: 'old' }).applied,
      false,
    );
    assert.equal(
      store.sync.applyRemote(remote(alice.fingerprint, 10, false, originA), { label: 'tie-low' })
        .applied,
      false,
    );
    assert.equal(store.certificates.get(alice.fingerprint)?.label, 'B');
    assert.equal(
      store.sync.applyRemote(remote(alice.fingerprint, 10, false, new Uint8Array(16).fill(0xcc)), {
        label: 'tie-high',
      }).applied,
      true,
    );
    assert.equal(store.certificates.get(alice.fingerprint)?.label, 'tie-high');
    store.close();
  });

  it('a deletion wins over an older copy, and a re-import after the deletion wins over it', () => {
    const a = freshStore();
    const b = freshStore();
    a.certificates.add([alice], { source: 't' });
    const copy = a.sync.entry('cert', alice.fingerprint);
    assert.ok(copy);
    b.sync.applyRemote(copy, { der: pki.alice.der });
    b.certificates.delete([alice.fingerprint]);
    const deletion = b.sync.entry('cert', alice.fingerprint);
    assert.ok(deletion?.deleted);
    assert.equal(a.sync.applyRemote(deletion).applied, true);
    assert.equal(a.certificates.has(alice.fingerprint), false);
    assert.equal(
      b.sync.applyRemote(copy, { der: pki.alice.der }).applied,
      false,
      'older copy loses',
    );
    a.certificates.add([alice], { source: 're-import' });
    const again = a.sync.entry('cert', alice.fingerprint);
    assert.ok(again && !again.deleted);
    assert.equal(b.sync.applyRemote(again, { der: pki.alice.der }).applied, true);
    assert.equal(b.certificates.has(alice.fingerprint), true);
    a.close();
    b.close();
  });

  it('keeps a remote tombstone for an item never held', () => {
    const store = freshStore();
    assert.equal(store.sync.applyRemote(remote(bob.fingerprint, 5, true)).applied, true);
    assert.equal(store.sync.entry('cert', bob.fingerprint)?.deleted, true);
    assert.equal(
      store.sync.applyRemote(remote(bob.fingerprint, 4), { der: pki.bob.der }).applied,
      false,
    );
    store.close();
  });

  it('refuses DER that does not match the fingerprint, malformed entries, and missing DER', () => {
    const store = freshStore();
    assert.throws(
      () => store.sync.applyRemote(remote(alice.fingerprint, 1), { der: pki.bob.der }),
      (e) => isCertsyncError(e) && e.code === 'bad-certificate',
    );
    assert.throws(
      () => store.sync.applyRemote({ ...remote(alice.fingerprint, 1), origin: new Uint8Array(3) }),
      (e) => isCertsyncError(e) && e.code === 'bad-input',
    );
    assert.throws(() => store.sync.applyRemote(remote(alice.fingerprint, 1)), TypeError);
    assert.equal(store.sync.counter(), 0, 'a failed apply leaves even the clock alone');
    assert.deepEqual(store.sync.entries(), []);
    store.close();
  });

  it('compacts tombstones only when old enough and acknowledged by every peer', () => {
    const store = freshStore();
    store.certificates.add([alice, bob], { source: 't' });
    store.certificates.delete([alice.fingerprint]);
    const aliceSeq = store.sync.counter();
    store.certificates.delete([bob.fingerprint]);
    store.peers.add('phone', new Uint8Array(32).fill(1));
    store.peers.add('laptop', new Uint8Array(32).fill(2));
    assert.equal(store.sync.compactTombstones(), 0, 'too young');
    time += 31 * DAY;
    assert.equal(store.sync.compactTombstones(), 0, 'no peer has acknowledged');
    store.peers.recordSync('phone', { ackedCounter: 100, remoteCounter: 0 });
    store.peers.recordSync('laptop', { ackedCounter: aliceSeq, remoteCounter: 0 });
    assert.equal(store.sync.compactTombstones(), 1);
    assert.equal(store.sync.entry('cert', alice.fingerprint), undefined);
    assert.equal(store.sync.entry('cert', bob.fingerprint)?.deleted, true);
    store.close();
  });

  it('returns a held item with its DER and synced fields for sending', () => {
    const store = freshStore();
    store.certificates.add([alice], { source: 't' });
    store.certificates.setMeta(alice.fingerprint, { pinned: true });
    const rec = store.sync.record('cert', alice.fingerprint);
    assert.deepEqual(rec?.der, pki.alice.der);
    assert.equal(rec?.pinned, true);
    assert.equal(store.sync.record('cert', bob.fingerprint), undefined);
    store.close();
  });
});
