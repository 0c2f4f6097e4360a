/**
 * Paired peers (spec/session.md, "Peers"): a name, the peer's X25519 identity key and when it
 * was paired. The store's `peers` table implements {@link PeerBook}; {@link MemoryPeerBook}
 * serves tests and benchmarks.
 */
import { CertsyncError } from '../../protocol/errors.ts';
import { identityFingerprint } from '../../protocol/secure/fingerprint.ts';

/** One paired peer. */
export interface PeerRecord {
  readonly name: string;
  readonly publicKey: Uint8Array;
  /** Milliseconds since 1970, when the pairing was confirmed. */
  readonly pairedAt: number;
}

/** Where paired peers are kept. Every method is synchronous, as SQLite calls are. */
export interface PeerBook {
  /** The peer holding this identity key, if paired. */
  findByKey(publicKey: Uint8Array): PeerRecord | undefined;
  /** The peer of this name, if any. */
  findByName(name: string): PeerRecord | undefined;
  /**
   * Stores a newly paired peer; pairing an already paired key again renames it.
   * @throws CertsyncError `peer-key-mismatch` when `name` belongs to a different key
   */
  add(record: PeerRecord): void;
  /** Every paired peer, by name. */
  list(): PeerRecord[];
  /** Forgets a peer; true when one was removed. Its next session must pair again. */
  remove(name: string): boolean;
}

/** Constant-time equality of two identity keys. */
export function sameIdentityKey(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/** A {@link PeerBook} in memory: for tests and benchmarks, lost when the process ends. */
export class MemoryPeerBook implements PeerBook {
  readonly #peers = new Map<string, PeerRecord>();

  findByKey(publicKey: Uint8Array): PeerRecord | undefined {
    for (const peer of this.#peers.values())
      if (sameIdentityKey(peer.publicKey, publicKey)) return peer;
    return undefined;
  }

  findByName(name: string): PeerRecord | undefined {
    return this.#peers.get(name);
  }

  add(record: PeerRecord): void {
    const holder = this.#peers.get(record.name);
    if (holder && !sameIdentityKey(holder.publicKey, record.publicKey)) {
      throw new CertsyncError(
        'peer-key-mismatch',
        `peer '${record.name}' is paired with key ${identityFingerprint(holder.publicKey)}; ` +
          `remove it before pairing ${identityFingerprint(record.publicKey)} under that name`,
      );
    }
    const previous = this.findByKey(record.publicKey);
    if (previous) this.#peers.delete(previous.name);
    this.#peers.set(record.name, { ...record, publicKey: record.publicKey.slice() });
  }

  list(): PeerRecord[] {
    return [...this.#peers.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  remove(name: string): boolean {
    return this.#peers.delete(name);
  }
}
