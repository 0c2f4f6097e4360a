/**
 * The {@link PeerBook} of a certsync store: paired peers live in the store's `peers` table,
 * the identity in its `identity` table (node/store). This adapter gives the session layer
 * the view it needs.
 */
import { CertsyncError, isCertsyncError } from '../../protocol/errors.ts';
import type { Store } from '../store/index.ts';
import { identityFromSecrets } from './identity.ts';
import type { Identity } from './identity.ts';
import { sameIdentityKey } from './peer-book.ts';
import type { PeerBook, PeerRecord } from './peer-book.ts';

type StorePeer = NonNullable<ReturnType<Store['peers']['get']>>;

function toRecord(peer: StorePeer): PeerRecord {
  return { name: peer.name, publicKey: peer.identityKey, pairedAt: peer.pairedAt.getTime() };
}

/** The store's identity keys as the session layer's {@link Identity}. */
export function storeIdentity(store: Store): Identity {
  const keys = store.identity();
  return identityFromSecrets(keys.x25519PrivateKey, keys.ed25519PrivateKey);
}

/**
 * The store's peers as a {@link PeerBook}. Pairing a known key under a new name renames it
 * (the old row goes, with its sync counters, as a fresh pairing starts over).
 */
export function storePeerBook(store: Store): PeerBook {
  return {
    findByKey: (key) => {
      const peer = store.peers.byKey(key);
      return peer && toRecord(peer);
    },
    findByName: (name) => {
      const peer = store.peers.get(name);
      return peer && toRecord(peer);
    },
    add: (record) =>
      store.transaction(() => {
        const holder = store.peers.get(record.name);
        if (holder && !sameIdentityKey(holder.identityKey, record.publicKey)) {
          throw new CertsyncError(
            'peer-key-mismatch',
            `peer '${record.name}' is paired with another key; remove it before pairing anew`,
          );
        }
        if (holder) return;
        const previous = store.peers.byKey(record.publicKey);
        if (previous) store.peers.remove(previous.name);
        store.peers.add(record.name, record.publicKey);
      }),
    list: () => store.peers.list().map(toRecord),
    remove: (name) => {
      try {
        store.peers.remove(name);
        return true;
      } catch (error) {
        if (isCertsyncError(error) && error.code === 'not-found') return false;
        throw error;
      }
    },
  };
}
