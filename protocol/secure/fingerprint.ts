/**
 * The printable fingerprint of an identity key (spec/session.md, "Identity"): what
 * `certsync id` shows and what a user compares when naming a peer.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { describe } from './noise.ts';

/**
 * The first 16 bytes of SHA-256 over the 32-byte X25519 identity public key, in lowercase
 * hex, in eight dash-separated groups of four: `3f2a-...-9c01`.
 * @throws TypeError unless given 32 bytes
 */
export function identityFingerprint(publicKey: Uint8Array): string {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    throw new TypeError(`expected a 32-byte identity public key, got ${describe(publicKey)}`);
  }
  const hex = bytesToHex(sha256(publicKey).subarray(0, 16));
  return (hex.match(/.{4}/g) ?? []).join('-');
}
