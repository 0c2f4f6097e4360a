import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { isCertsyncError } from '../../protocol/errors.ts';
import { parseCertificate, parseCrl, type ParsedCertificate } from '../pki/index.ts';
import { buildStandardPki, type StandardPki } from '../testing/openssl-pki.ts';
import { makeTempDir } from '../testing/temp-dir.ts';
import { SCHEMA_VERSION, Store } from './index.ts';

let pki: StandardPki;
let tmp: ReturnType<typeof makeTempDir>;
let certs: Record<'root' | 'intermediate' | 'alice' | 'bob' | 'carol' | 'dave', ParsedCertificate>;
let n = 0;

function freshStore(options: Parameters<typeof Store.open>[1] = {}): Store {
  return Store.open(join(tmp.dir, `s${++n}.sqlite`), { create: true, ...options });
}

function hasCode(code: string): (e: unknown) => boolean {
  return (e) => isCertsyncError(e) && e.code === code;
}

before(async () => {
  pki = await buildStandardPki();
  tmp = makeTempDir();
  certs = {
    root: parseCertificate(pki.root.der),
    intermediate: parseCertificate(pki.intermediate.der),
    alice: parseCertificate(pki.alice.der),
    bob: parseCertificate(pki.bob.der),
    carol: parseCertificate(pki.carol.der),
    dave: parseCertificate(pki.dave.der),
  };
});

after(async () => {
  tmp.remove();
  await pki.cleanup();
});

describe('Store.open', () => {
  it('creates a store with a random id, identity keys, WAL and the current schema', () => {
    const path = join(tmp.dir, 'new.sqlite');
    const a = Store.open(path, { create: true, capacity: 3, policy: 'refuse' });
    const id = a.id;
    const identity = a.identity();
    a.close();
    const b = Store.open(path);
    assert.deepEqual(b.id, id);
    assert.equal(id.length, 16);
    assert.equal(identity.ed25519PublicKey.length, 32);
    assert.deepEqual(b.identity().x25519PublicKey, identity.x25519PublicKey);
    assert.deepEqual(b.capacity.state(), {
      count: 0,
      capacity: 3,
      free: 3,
      policy: 'refuse',
      pinned: 0,
    });
    b.close();
    const raw = new Database(path, { readonly: true });
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(raw.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    raw.close();
    const other = Store.open(join(tmp.dir, 'other.sqlite'), { create: true });
    assert.notDeepEqual(other.id, id);
    other.close();
  });

  it('refuses a missing file unless asked to create it', () => {
    assert.throws(() => Store.open(join(tmp.dir, 'missing.sqlite')), hasCode('store-unreadable'));
  });

  it('refuses a file that is not SQLite, naming it', () => {
    const path = join(tmp.dir, 'garbage.sqlite');
    writeFileSync(path, 'this is not a database, just text '.repeat(200));
    assert.throws(
      () => Store.open(path),
      (e) => hasCode('store-unreadable')(e) && (e as Error).message.includes(path),
    );
  });

  it('refuses a damaged store file, naming it, and leaves its bytes alone', () => {
    const path = join(tmp.dir, 'damaged.sqlite');
    Store.open(path, { create: true }).close();
    assert.equal(existsSync(`${path}-wal`), false, 'closed cleanly, all in the main file');
    const raw = new Database(path, { readonly: true });
    const page = Number(raw.pragma('page_size', { simple: true }));
    const meta = Number(
      raw.prepare("SELECT rootpage FROM sqlite_schema WHERE name = 'meta'").pluck().get(),
    );
    raw.close();
    // The schema (page 1) is intact, so the file opens; the meta table's page is not.
    const bytes = readFileSync(path);
    bytes.fill(0xff, (meta - 1) * page, meta * page);
    writeFileSync(path, bytes);
    assert.throws(
      () => Store.open(path),
      (e) => hasCode('store-unreadable')(e) && (e as Error).message.startsWith(path),
    );
    assert.deepEqual(readFileSync(path), bytes);
  });

  it('refuses to create a store where its folder cannot be made, naming the folder', () => {
    const blocker = join(tmp.dir, 'a-file');
    writeFileSync(blocker, 'not a folder');
    const path = join(blocker, 'sub', 'store.sqlite');
    assert.throws(
      () => Store.open(path, { create: true }),
      (e) => hasCode('store-unreadable')(e) && (e as Error).message.includes(join(blocker, 'sub')),
    );
    // Node's own recursive mkdir never returns for this one.
    if (existsSync('/proc/self')) {
      assert.throws(
        () => Store.open('/proc/certsync-no-such/store.sqlite', { create: true }),
        hasCode('store-unreadable'),
      );
    }
  });

  it('refuses a SQLite file of another application', () => {
    const path = join(tmp.dir, 'foreign.sqlite');
    const db = new Database(path);
    db.exec('CREATE TABLE notes (text TEXT)');
    db.close();
    assert.throws(() => Store.open(path), hasCode('store-unreadable'));
    assert.throws(() => Store.open(path, { create: true }), hasCode('store-unreadable'));
  });

  it('refuses a store from a newer schema and leaves it untouched', () => {
    const path = join(tmp.dir, 'newer.sqlite');
    Store.open(path, { create: true }).close();
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(() => Store.open(path), hasCode('store-too-new'));
    const check = new Database(path, { readonly: true });
    assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION + 1);
    check.close();
  });

  it('reports store-locked when another connection holds the write lock, and changes nothing', () => {
    const path = join(tmp.dir, 'locked.sqlite');
    const store = Store.open(path, { create: true, busyTimeoutMs: 50 });
    const holder = new Database(path);
    holder.exec('BEGIN IMMEDIATE');
    try {
      assert.throws(
        () => store.certificates.add([certs.alice], { source: 'test' }),
        hasCode('store-locked'),
      );
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    assert.equal(store.certificates.list().length, 0);
    store.close();
  });
});

describe('certificates', () => {
  it('keeps the DER byte for byte with the parsed fields, and re-adding is a no-op', () => {
    const store = freshStore();
    const first = store.certificates.add([certs.alice, certs.bob], { source: 'file:/a.pem' });
    assert.equal(first.added.length, 2);
    const again = store.certificates.add([certs.alice, certs.alice], { source: 'file:/b.pem' });
    assert.equal(again.added.length, 0);
    assert.deepEqual(
      again.present.map((r) => r.fingerprintHex),
      [certs.alice.fingerprintHex],
    );
    assert.deepEqual(store.certificates.der(certs.alice.fingerprint), pki.alice.der);
    const bob = store.certificates.get(certs.bob.fingerprint);
    assert.ok(bob);
    assert.equal(bob.subject, 'O=certsync tests, CN=Bob Example');
    assert.deepEqual(bob.emails, ['bob@example.org', 'robert@example.net']);
    assert.equal(bob.keyAlgorithm, 'RSA');
    assert.equal(bob.keySize, 2048);
    assert.equal(bob.serialHex, pki.bob.serialHex);
    assert.equal(bob.source, 'file:/a.pem');
    assert.equal(bob.useCount, 0);
    assert.equal(store.sync.counter(), 2);
    store.close();
  });

  it('lists in store, use, subject and contact order', () => {
    const store = freshStore();
    store.certificates.add([certs.carol, certs.alice, certs.bob, certs.intermediate], {
      source: 't',
    });
    store.certificates.recordUse(certs.bob.fingerprint);
    store.certificates.recordUse(certs.bob.fingerprint);
    store.certificates.recordUse(certs.carol.fingerprint);
    store.contacts.add([
      { name: 'Zed (Alice)', email: 'alice@example.org' },
      { name: 'Aaron (Carol)', email: 'CAROL@example.org' },
    ]);
    const names = (order: Parameters<Store['certificates']['list']>[0]): string[] =>
      store.certificates.list(order).map((r) => r.displayName);
    assert.deepEqual(names('store'), [
      'Aaron (Carol)',
      'Zed (Alice)',
      'Bob Example',
      'certsync Test Intermediate',
    ]);
    assert.deepEqual(names('use').slice(0, 2), ['Bob Example', 'Aaron (Carol)']);
    assert.deepEqual(names('subject'), [
      'Zed (Alice)',
      'Bob Example',
      'Aaron (Carol)',
      'certsync Test Intermediate',
    ]);
    assert.deepEqual(names('contact'), [
      'Aaron (Carol)',
      'Bob Example',
      'certsync Test Intermediate',
      'Zed (Alice)',
    ]);
    assert.throws(() => store.certificates.list('size' as never), RangeError);
    store.close();
  });

  it('records uses locally without moving the change counter', () => {
    const store = freshStore({ now: () => 1_700_000_000_000 });
    store.certificates.add([certs.alice], { source: 't' });
    const before = store.sync.counter();
    const used = store.certificates.recordUse(certs.alice.fingerprint);
    assert.equal(used.useCount, 1);
    assert.equal(used.lastUsedAt?.getTime(), 1_700_000_000_000);
    assert.equal(store.sync.counter(), before);
    assert.throws(() => store.certificates.recordUse(certs.bob.fingerprint), hasCode('not-found'));
    store.close();
  });

  it('deletes with a tombstone, and a re-import removes the tombstone', () => {
    const store = freshStore();
    store.certificates.add([certs.alice, certs.bob], { source: 't' });
    store.certificates.delete([certs.alice.fingerprint]);
    assert.equal(store.certificates.has(certs.alice.fingerprint), false);
    const tomb = store.sync.entry('cert', certs.alice.fingerprint);
    assert.equal(tomb?.deleted, true);
    assert.equal(tomb?.clock, 3);
    assert.throws(
      () => store.certificates.delete([certs.bob.fingerprint, certs.carol.fingerprint]),
      hasCode('not-found'),
    );
    assert.equal(
      store.certificates.has(certs.bob.fingerprint),
      true,
      'a failed delete deletes nothing',
    );
    store.certificates.add([certs.alice], { source: 't' });
    const back = store.sync.entry('cert', certs.alice.fingerprint);
    assert.equal(back?.deleted, false);
    assert.ok((back?.clock ?? 0) > (tomb?.clock ?? 0));
    store.close();
  });

  it('finds by e-mail, subject and fingerprint prefix', () => {
    const store = freshStore();
    store.certificates.add([certs.alice, certs.bob], { source: 't' });
    assert.equal(
      store.certificates.findByEmail('Robert@Example.net')[0]?.commonName,
      'Bob Example',
    );
    assert.equal(store.certificates.findBySubject(certs.alice.subjectDer).length, 1);
    assert.equal(store.certificates.findByPrefix(certs.alice.fingerprintHex.slice(0, 6)).length, 1);
    store.close();
  });

  it('sets label and pin as synced changes', () => {
    const store = freshStore();
    store.certificates.add([certs.alice], { source: 't' });
    const r = store.certificates.setMeta(certs.alice.fingerprint, { label: 'Work', pinned: true });
    assert.equal(r.displayName, 'Work');
    assert.equal(r.pinned, true);
    assert.equal(r.clock, 2);
    store.close();
  });
});

describe('capacity', () => {
  it('wouldEvict names the victims lru would take, and says when only pinned ones are left', () => {
    const store = freshStore({ capacity: 2 });
    store.certificates.add([certs.alice, certs.bob], { source: 't' });
    assert.equal(store.capacity.wouldEvict(0).needed, 0);
    store.certificates.setMeta(certs.alice.fingerprint, { pinned: true });
    const plan = store.capacity.wouldEvict(1);
    assert.deepEqual(
      [plan.needed, plan.policy, plan.possible, plan.victims.map((v) => v.commonName)],
      [1, 'lru', true, ['Bob Example']],
    );
    store.certificates.setMeta(certs.bob.fingerprint, { pinned: true });
    assert.equal(store.capacity.wouldEvict(1).possible, false);
    assert.throws(
      () => store.certificates.add([certs.carol], { source: 't' }),
      hasCode('store-full'),
    );
    assert.throws(() => store.capacity.set({ capacity: 1 }), hasCode('bad-input'));
    assert.throws(() => store.capacity.set({ capacity: -1 }), RangeError);
    store.close();
  });
});

describe('crls', () => {
  it('stores a CRL with its revoked serials and finds a revocation', () => {
    const store = freshStore();
    const crl = parseCrl(pki.crl.bytes);
    store.crls.add([crl], 'file:/crl.der');
    assert.equal(store.crls.add([crl], 'again').added.length, 0);
    assert.deepEqual(store.crls.der(crl.fingerprint), pki.crl.bytes);
    assert.deepEqual(
      store.crls.revokedSerials(crl.fingerprint).map((s) => s.serialHex),
      [pki.dave.serialHex],
    );
    assert.equal(store.crls.revocationOf(certs.dave.issuerDer, pki.dave.serialHex).length, 1);
    assert.equal(store.crls.revocationOf(certs.alice.issuerDer, pki.alice.serialHex).length, 0);
    store.crls.delete([crl.fingerprint]);
    assert.equal(store.sync.entry('crl', crl.fingerprint)?.deleted, true);
    assert.equal(store.capacity.state().count, 0);
    store.close();
  });
});

describe('peers, settings, private keys', () => {
  it('keeps peers with forward-only counters', () => {
    const store = freshStore();
    store.peers.add('phone', new Uint8Array(32).fill(7));
    assert.throws(
      () => store.peers.add('phone2', new Uint8Array(32).fill(7)),
      hasCode('bad-input'),
    );
    store.peers.recordSync('phone', { ackedCounter: 5, remoteCounter: 9 });
    const p = store.peers.recordSync('phone', { ackedCounter: 3, remoteCounter: 10 });
    assert.equal(p.ackedCounter, 5);
    assert.equal(p.remoteCounter, 10);
    assert.equal(store.peers.byKey(new Uint8Array(32).fill(7))?.name, 'phone');
    assert.throws(
      () => store.peers.recordSync('tablet', { ackedCounter: 1, remoteCounter: 1 }),
      hasCode('not-found'),
    );
    store.peers.remove('phone');
    assert.deepEqual(store.peers.list(), []);
    store.close();
  });

  it('keeps typed settings with defaults and opaque private-key blobs', () => {
    const store = freshStore();
    assert.equal(store.settings.get('auto-sync'), 'manual');
    store.settings.set('auto-sync', 'auto');
    store.settings.set('last-check-at', 1234);
    assert.equal(store.settings.get('auto-sync'), 'auto');
    assert.equal(store.settings.get('last-check-at'), 1234);
    store.privateKeys.put(certs.alice.fingerprint, Uint8Array.of(1, 2, 3));
    assert.deepEqual(store.privateKeys.get(certs.alice.fingerprint), Uint8Array.of(1, 2, 3));
    assert.equal(store.privateKeys.list().length, 1);
    assert.equal(store.privateKeys.delete(certs.alice.fingerprint), true);
    store.close();
  });
});
