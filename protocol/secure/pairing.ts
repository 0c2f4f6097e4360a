/**
 * Pairing (spec/session.md, "Pairing"): the six-digit code both users compare, and the
 * one-time secret for pairing without a person at each screen.
 *
 * Why a commitment: a relay that swaps keys runs two handshakes and sends the last message
 * of one of them. A code taken from the transcript hash alone would let it try a million
 * variants of that message offline until both codes match. So the responder commits to a
 * random nonce in handshake message 2, the initiator sends its own nonce in message 3, and
 * the responder reveals its nonce afterwards. Each code then depends on a nonce chosen by an
 * honest side after the relay's last free choice in that handshake: a relay matches the two
 * codes with probability one in a million, as with Bluetooth numeric comparison.
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { CertsyncError } from '../errors.ts';
import { describe } from './noise.ts';

/** Length of the pairing nonces and of the commitment. */
export const PAIRING_NONCE_LENGTH = 32;
/** Bytes of entropy in a pairing secret. */
export const PAIRING_SECRET_LENGTH = 16;

const encoder = new TextEncoder();
const COMMIT_LABEL = encoder.encode('certsync pairing commitment v1');
const CODE_LABEL = encoder.encode('certsync pairing code v1');
const PSK_SALT = encoder.encode('certsync pairing secret v1');
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function checkNonce(nonce: unknown, what: string): Uint8Array {
  if (!(nonce instanceof Uint8Array) || nonce.length !== PAIRING_NONCE_LENGTH) {
    throw new TypeError(`expected ${what} of 32 bytes, got ${describe(nonce)}`);
  }
  return nonce;
}

/** The responder's commitment to its nonce: SHA-256(label || nonce). */
export function commitToNonce(nonce: Uint8Array): Uint8Array {
  const n = checkNonce(nonce, 'a pairing nonce');
  const input = new Uint8Array(COMMIT_LABEL.length + n.length);
  input.set(COMMIT_LABEL);
  input.set(n, COMMIT_LABEL.length);
  return sha256(input);
}

/**
 * Checks a revealed nonce against the commitment received earlier.
 * @throws CertsyncError `handshake-failed` when they differ or the reveal is malformed
 */
export function checkReveal(commitment: Uint8Array, revealed: Uint8Array): void {
  if (revealed.length !== PAIRING_NONCE_LENGTH) {
    throw new CertsyncError('handshake-failed', `pairing reveal of ${revealed.length} bytes`);
  }
  const expected = commitToNonce(revealed);
  let diff = commitment.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) diff |= (commitment[i] ?? 0) ^ (expected[i] as number);
  if (diff !== 0) {
    throw new CertsyncError('handshake-failed', 'the pairing nonce does not match its commitment');
  }
}

/**
 * The six-digit code shown on both screens: HMAC-SHA-256 keyed by the handshake hash over
 * label || initiator nonce || responder nonce; its first 8 bytes, big-endian, modulo 10^6,
 * zero-padded. (The bias of 2^64 mod 10^6 is below 2^-44.)
 */
export function pairingCode(
  handshakeHash: Uint8Array,
  initiatorNonce: Uint8Array,
  responderNonce: Uint8Array,
): string {
  const a = checkNonce(initiatorNonce, "the initiator's nonce");
  const b = checkNonce(responderNonce, "the responder's nonce");
  const input = new Uint8Array(CODE_LABEL.length + a.length + b.length);
  input.set(CODE_LABEL);
  input.set(a, CODE_LABEL.length);
  input.set(b, CODE_LABEL.length + a.length);
  const mac = hmac(sha256, handshakeHash, input);
  const value = new DataView(mac.buffer, mac.byteOffset, 8).getBigUint64(0, false);
  return (value % 1_000_000n).toString().padStart(6, '0');
}

/**
 * Formats 16 random bytes as a pairing secret: lowercase RFC 4648 base32 in dash-separated
 * groups of four, e.g. `mfrg-gzdf-mztw-q2lk-nnwg-23tp-oa`.
 * @throws TypeError unless given exactly 16 bytes
 */
export function formatPairingSecret(random: Uint8Array): string {
  if (!(random instanceof Uint8Array) || random.length !== PAIRING_SECRET_LENGTH) {
    throw new TypeError(`expected 16 random bytes, got ${describe(random)}`);
  }
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of random) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return (out.match(/.{1,4}/g) ?? []).join('-');
}

/**
 * Parses a pairing secret as typed by a user (case, dashes and spaces do not matter) and
 * derives the 32-byte pre-shared key from it: HKDF-SHA-256(secret, salt = label).
 * @throws CertsyncError `bad-input` when it is not 26 base32 characters encoding 16 bytes
 */
export function pskFromPairingSecret(secret: string): Uint8Array {
  const text = String(secret).toLowerCase().replace(/[\s-]/g, '');
  if (text.length !== 26) {
    throw new CertsyncError(
      'bad-input',
      `a pairing secret has 26 letters/digits, got ${text.length}`,
    );
  }
  const bytes = new Uint8Array(PAIRING_SECRET_LENGTH);
  let bits = 0;
  let value = 0;
  let at = 0;
  for (const ch of text) {
    const v = BASE32.indexOf(ch);
    if (v < 0) throw new CertsyncError('bad-input', `a pairing secret has no letter '${ch}'`);
    value = ((value << 5) | v) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bytes[at++] = (value >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  if ((value & ((1 << bits) - 1)) !== 0) {
    throw new CertsyncError('bad-input', 'the pairing secret does not end as one certsync printed');
  }
  return hkdf(sha256, bytes, PSK_SALT, new Uint8Array(0), 32);
}
