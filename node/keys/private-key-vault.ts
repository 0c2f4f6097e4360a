/**
 * Private keys at rest (spec/session.md, "Private keys at rest"): a PKCS#8 key is kept only
 * encrypted with the user's passphrase. The key is scrypt(passphrase, salt), the cipher
 * XChaCha20-Poly1305 with a random 24-byte nonce, and the header is authenticated with it.
 *
 * Blob layout: "CSK1" | log2(N) | r | p | salt (16) | nonce (24) | ciphertext and tag.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { CertsyncError } from '../../protocol/errors.ts';
import { systemRandom } from './identity.ts';
import type { RandomSource } from './identity.ts';

const MAGIC = [0x43, 0x53, 0x4b, 0x31]; // "CSK1"
const HEADER = 4 + 3 + 16 + 24;
const TAG = 16;

/** scrypt cost: N = 2^logN, r, p. */
export interface ScryptCost {
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

/** The default cost: N = 2^17, r = 8, p = 1 (128 MiB, about a second here). */
export const DEFAULT_SCRYPT_COST: ScryptCost = Object.freeze({ logN: 17, r: 8, p: 1 });

/** Limits a blob may ask for: a hostile file cannot make decryption take minutes or GiBs. */
const LIMITS = { logN: [10, 18], r: [1, 8], p: [1, 4] } as const;

function checkCost(cost: ScryptCost, source: 'caller' | 'blob'): void {
  for (const name of ['logN', 'r', 'p'] as const) {
    const [low, high] = LIMITS[name];
    const value = cost[name];
    if (Number.isInteger(value) && value >= low && value <= high) continue;
    const message = `expected scrypt ${name} in ${low}..${high}, got ${value}`;
    if (source === 'caller') throw new RangeError(message);
    throw new CertsyncError('bad-input', `encrypted private key: ${message}`);
  }
}

function normalise(passphrase: string): Uint8Array {
  if (typeof passphrase !== 'string' || passphrase.length === 0) {
    throw new TypeError(`expected a non-empty passphrase, got ${typeof passphrase}`);
  }
  return new TextEncoder().encode(passphrase.normalize('NFKC'));
}

async function deriveKey(passphrase: string, salt: Uint8Array, cost: ScryptCost) {
  const N = 2 ** cost.logN;
  return scryptAsync(normalise(passphrase), salt, { N, r: cost.r, p: cost.p, dkLen: 32 });
}

function checkPkcs8(pkcs8: Uint8Array): void {
  if (!(pkcs8 instanceof Uint8Array) || pkcs8.length < 2 || pkcs8[0] !== 0x30) {
    throw new CertsyncError('bad-input', 'a PKCS#8 private key is a DER SEQUENCE');
  }
}

/** Seals one PKCS#8 key at once, with a key derived beforehand (see {@link prepareEncryption}). */
export interface KeySealer {
  /**
   * The encrypted blob of `pkcs8`.
   *
   * @throws CertsyncError `bad-input` when `pkcs8` is not a DER SEQUENCE
   * @throws RangeError when this sealer already sealed a key (its nonce is used up)
   */
  seal(pkcs8: Uint8Array): Uint8Array;
}

/**
 * Derives the key for one future encryption under `passphrase` now (scrypt takes about a
 * second), so that a key can then be sealed without waiting: how a session stores a key it
 * receives. The sealer seals one key; the blob is that of {@link encryptPrivateKey}.
 *
 * @throws TypeError for an empty passphrase; RangeError for a cost outside the limits
 */
export async function prepareEncryption(
  passphrase: string,
  options: { cost?: ScryptCost; random?: RandomSource } = {},
): Promise<KeySealer> {
  const cost = options.cost ?? DEFAULT_SCRYPT_COST;
  checkCost(cost, 'caller');
  const random = options.random ?? systemRandom;
  const header = new Uint8Array(HEADER);
  header.set(MAGIC);
  header.set([cost.logN, cost.r, cost.p], 4);
  header.set(random(16), 7);
  header.set(random(24), 23);
  const key = await deriveKey(passphrase, header.subarray(7, 23), cost);
  let used = false;
  return {
    seal(pkcs8: Uint8Array): Uint8Array {
      checkPkcs8(pkcs8);
      if (used) throw new RangeError('expected an unused sealer, got one that sealed a key');
      used = true;
      const sealed = xchacha20poly1305(key, header.subarray(23), header).encrypt(pkcs8);
      const out = new Uint8Array(HEADER + sealed.length);
      out.set(header);
      out.set(sealed, HEADER);
      return out;
    },
  };
}

/**
 * Encrypts a PKCS#8 private key (DER) under a passphrase.
 * @throws CertsyncError `bad-input` when `pkcs8` is not a DER SEQUENCE
 * @throws TypeError for an empty passphrase; RangeError for a cost outside the limits
 */
export async function encryptPrivateKey(
  pkcs8: Uint8Array,
  passphrase: string,
  options: { cost?: ScryptCost; random?: RandomSource } = {},
): Promise<Uint8Array> {
  checkPkcs8(pkcs8);
  return (await prepareEncryption(passphrase, options)).seal(pkcs8);
}

/**
 * Decrypts a blob made by {@link encryptPrivateKey}.
 * @throws CertsyncError `bad-input` when the blob is malformed, asks for a cost beyond the
 *   limits, or does not open with this passphrase (a wrong passphrase and a damaged blob
 *   cannot be told apart)
 */
export async function decryptPrivateKey(blob: Uint8Array, passphrase: string): Promise<Uint8Array> {
  if (!(blob instanceof Uint8Array) || blob.length < HEADER + TAG + 2) {
    throw new CertsyncError('bad-input', 'encrypted private key: too short');
  }
  if (!MAGIC.every((b, i) => blob[i] === b)) {
    throw new CertsyncError('bad-input', 'encrypted private key: not a certsync key blob');
  }
  const cost = { logN: blob[4] as number, r: blob[5] as number, p: blob[6] as number };
  checkCost(cost, 'blob');
  const header = blob.subarray(0, HEADER);
  const key = await deriveKey(passphrase, header.subarray(7, 23), cost);
  try {
    return xchacha20poly1305(key, header.subarray(23), header).decrypt(blob.subarray(HEADER));
  } catch (error) {
    throw new CertsyncError('bad-input', 'encrypted private key: wrong passphrase or damaged', {
      cause: error,
    });
  }
}
