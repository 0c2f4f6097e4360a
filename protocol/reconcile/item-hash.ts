/**
 * Per-entry hashes of reconciliation (spec/reconcile.md, "Item hash" and "Sketch key").
 *
 * Every version of an entry has a 16-byte item hash over exactly the fields that make the
 * version, and a 48-bit sketch key built from it. A store computes both once per write and
 * keeps them with the row, so a sync never rehashes the store.
 */

import { sha256 } from '@noble/hashes/sha2.js';
import type { EntryHead } from '../merge/entry.ts';

/** The ASCII domain tag that starts every item hash input. */
export const ITEM_HASH_TAG = 'certsync/item/1';
const TAG_BYTES = new TextEncoder().encode(ITEM_HASH_TAG);

/** Length of the hash input: tag, kind, fingerprint, deleted, clock, origin. */
export const ITEM_HASH_INPUT_BYTES = TAG_BYTES.length + 1 + 32 + 1 + 8 + 16;

/** The wire code of an entry kind: 1 for a certificate, 2 for a CRL. */
export function kindCode(kind: EntryHead['kind']): number {
  return kind === 'cert' ? 1 : 2;
}

/**
 * The exact bytes hashed for an item (spec/reconcile.md, "Item hash"): the tag, the kind
 * code (1 byte), the fingerprint (32), deleted (1 byte: 0 or 1), the clock (8 bytes,
 * unsigned big-endian) and the origin (16).
 */
export function itemHashInput(head: EntryHead): Uint8Array {
  const out = new Uint8Array(ITEM_HASH_INPUT_BYTES);
  let o = 0;
  out.set(TAG_BYTES, o);
  o += TAG_BYTES.length;
  out[o++] = kindCode(head.kind);
  out.set(head.fingerprint, o);
  o += 32;
  out[o++] = head.deleted ? 1 : 0;
  const hi = Math.floor(head.clock / 0x100000000);
  const lo = head.clock >>> 0;
  new DataView(out.buffer).setUint32(o, hi);
  new DataView(out.buffer).setUint32(o + 4, lo);
  o += 8;
  out.set(head.origin, o);
  return out;
}

/** The 16-byte item hash: the first 16 bytes of SHA-256 of {@link itemHashInput}. */
export function itemHash(head: EntryHead): Uint8Array {
  return sha256(itemHashInput(head)).subarray(0, 16);
}

/**
 * A 48-bit sketch key as two 24-bit halves (spec/reconcile.md, "Sketch key").
 *
 * Bytes 0–2 are the first three bytes of the fingerprint, so a peer that decodes a key
 * learns which record it is about; byte 3 carries the deleted flag in its top bit and
 * item-hash byte 0 in the other seven; bytes 4–5 are item-hash bytes 1–2.
 */
export interface SketchKey {
  readonly hi: number;
  readonly lo: number;
}

/** The sketch key of an entry version, from its fingerprint, deleted flag and item hash. */
export function sketchKey(head: EntryHead, hash: Uint8Array): SketchKey {
  const f = head.fingerprint;
  const hi = ((f[0] as number) << 16) | ((f[1] as number) << 8) | (f[2] as number);
  const b3 = (head.deleted ? 0x80 : 0) | ((hash[0] as number) & 0x7f);
  const lo = (b3 << 16) | ((hash[1] as number) << 8) | (hash[2] as number);
  return { hi, lo };
}

/** A key as one exact integer below 2^48, for maps and sets. */
export function keyNumber(hi: number, lo: number): number {
  return hi * 0x1000000 + lo;
}

/** The top half (fingerprint tag) of a key number. */
export function keyTag(key: number): number {
  return Math.floor(key / 0x1000000);
}

/** True when the key says the version is a tombstone. */
export function keyDeleted(key: number): boolean {
  return ((key % 0x1000000) & 0x800000) !== 0;
}

/**
 * The 32-bit mixer of a key's halves (spec/reconcile.md, "Key mixer"): multiply-xorshift
 * rounds with fixed odd constants. Its low 16 bits are the key's check, and the whole
 * value seeds the key's index sequence.
 */
export function mixKey(hi: number, lo: number): number {
  let x = (Math.imul(hi, 0x9e3779b1) ^ lo) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** The 16-bit check a cell carries for its key sum: the low half of {@link mixKey}. */
export function keyCheck(hi: number, lo: number): number {
  return mixKey(hi, lo) & 0xffff;
}
