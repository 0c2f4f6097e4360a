/**
 * The abstract store entry that reconciliation and merging see (spec/reconcile.md,
 * "Entries"), and the order of versions that decides which copy wins.
 *
 * A store holds at most one entry per (kind, fingerprint). The entry is live (it carries
 * the DER and the synced metadata) or a tombstone (it records that the certificate or CRL
 * was deleted, and when). Every local write stamps the entry with a fresh version: the
 * store's Lamport clock, one past the highest clock it has seen, and the store's own
 * 16-byte origin id. Versions are totally ordered, so two stores that see the same writes
 * keep the same winner whatever the order they see them in.
 */

/** What an entry is: an X.509 certificate or a certificate revocation list. */
export type EntryKind = 'cert' | 'crl';

/** Metadata that travels with a live entry; the last writer of the record sets all of it. */
export interface SyncedMeta {
  /** A name the user gave the entry, or null. */
  readonly label: string | null;
  /** A pinned entry is never chosen as an eviction victim by the lru policy. */
  readonly pinned: boolean;
}

/** The version and identity part of an entry: what reconciliation hashes. */
export interface EntryHead {
  readonly kind: EntryKind;
  /** SHA-256 of the DER, 32 bytes. */
  readonly fingerprint: Uint8Array;
  readonly deleted: boolean;
  /** Lamport clock of the write that made this version, a non-negative safe integer. */
  readonly clock: number;
  /** 16-byte id of the store that made this version. */
  readonly origin: Uint8Array;
}

/** A whole entry as it is sent and merged: a tombstone, or a live entry with DER and meta. */
export interface Entry extends EntryHead {
  /** The DER, byte for byte; null for a tombstone, and in a metadata-only update. */
  readonly der: Uint8Array | null;
  /** Synced metadata; ignored for a tombstone. */
  readonly meta: SyncedMeta;
}

/** Metadata of a tombstone and of a record nobody labelled. */
export const EMPTY_META: SyncedMeta = Object.freeze({ label: null, pinned: false });

/** Lengths fixed by the spec. */
export const FINGERPRINT_BYTES = 32;
export const ORIGIN_BYTES = 16;

/**
 * Compares two versions of one record: negative when `a` is older than `b`, 0 when they
 * are the same version, positive when `a` is newer. Order: clock, then origin bytes
 * (unsigned, lexicographic). spec/reconcile.md, "Merge rule".
 */
export function compareVersions(a: EntryHead, b: EntryHead): number {
  if (a.clock !== b.clock) return a.clock < b.clock ? -1 : 1;
  return compareBytes(a.origin, b.origin);
}

/** Unsigned lexicographic order of two byte strings; a proper prefix sorts first. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Hex of a byte string, lower case; used for map keys and messages. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += (b < 16 ? '0' : '') + b.toString(16);
  return s;
}

/** The map key of a record: kind and fingerprint. */
export function recordKey(head: Pick<EntryHead, 'kind' | 'fingerprint'>): string {
  return `${head.kind}:${toHex(head.fingerprint)}`;
}

/**
 * Checks the shape of an entry that came from a peer or a file.
 *
 * @throws RangeError naming the first field that is out of shape
 */
export function checkEntry(e: Entry): void {
  if (e.kind !== 'cert' && e.kind !== 'crl') {
    throw new RangeError(`expected kind 'cert' or 'crl', got ${String(e.kind)}`);
  }
  if (e.fingerprint.length !== FINGERPRINT_BYTES) {
    throw new RangeError(`expected a 32-byte fingerprint, got ${e.fingerprint.length} bytes`);
  }
  if (e.origin.length !== ORIGIN_BYTES) {
    throw new RangeError(`expected a 16-byte origin, got ${e.origin.length} bytes`);
  }
  if (!Number.isSafeInteger(e.clock) || e.clock < 0) {
    throw new RangeError(`expected a clock in 0..2^53-1, got ${e.clock}`);
  }
  if (e.deleted && e.der !== null) {
    throw new RangeError('expected no DER on a tombstone, got DER bytes');
  }
}
