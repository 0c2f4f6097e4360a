import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isCertsyncError } from '../../protocol/errors.ts';
import { Store } from '../store/index.ts';
import { createIdentity, identityFromSecrets } from './identity.ts';
import { MemoryPeerBook } from './peer-book.ts';
import type { PeerBook } from './peer-book.ts';
import { storeIdentity, storePeerBook } from './store-peer-book.ts';

const key = (byte: number) => new Uint8Array(32).fill(byte);

function laws(name: string, make: () => { book: PeerBook; done: () => void }) {
  test(`${name}: add, find, rename by re-pairing, refuse a name held by another key, remove`, () => {
    const { book, done } = make();
    try {
      book.add({ name: 'phone', publicKey: key(1), pairedAt: 5 });
      assert.equal(book.findByKey(key(1))?.name, 'phone');
      assert.deepEqual(book.findByName('phone')?.publicKey, key(1));
      assert.equal(book.findByKey(key(2)), undefined);
      book.add({ name: 'phone', publicKey: key(1), pairedAt: 6 });
      book.add({ name: 'tablet', publicKey: key(1), pairedAt: 7 });
      assert.deepEqual(
        book.list().map((p) => p.name),
        ['tablet'],
      );
      assert.throws(
        () => book.add({ name: 'tablet', publicKey: key(2), pairedAt: 8 }),
        (e) => isCertsyncError(e) && e.code === 'peer-key-mismatch',
      );
      assert.equal(book.remove('tablet'), true);
      assert.equal(book.remove('tablet'), false);
      assert.deepEqual(book.list(), []);
    } finally {
      done();
    }
  });
}

laws('memory peer book', () => ({ book: new MemoryPeerBook(), done: () => undefined }));

laws('store peer book on a SQLite file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'certsync-peers-'));
  const store = Store.open(join(dir, 'store.db'), { create: true });
  return {
    book: storePeerBook(store),
    done: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

test('an identity is rebuilt from its stored secrets, with the same fingerprint', () => {
  const created = createIdentity();
  const rebuilt = identityFromSecrets(created.x25519SecretKey, created.ed25519SecretKey);
  assert.deepEqual(rebuilt, created);
  assert.match(created.fingerprint, /^([0-9a-f]{4}-){7}[0-9a-f]{4}$/);
  assert.notEqual(createIdentity().fingerprint, created.fingerprint);
  assert.throws(() => identityFromSecrets(new Uint8Array(31), key(1)), TypeError);
});

test("a store's identity is usable as the session identity", () => {
  const dir = mkdtempSync(join(tmpdir(), 'certsync-id-'));
  const store = Store.open(join(dir, 'store.db'), { create: true });
  try {
    const identity = storeIdentity(store);
    assert.deepEqual(identity.x25519PublicKey, store.identity().x25519PublicKey);
    assert.deepEqual(identity.ed25519PublicKey, store.identity().ed25519PublicKey);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
