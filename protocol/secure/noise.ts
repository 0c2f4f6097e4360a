/**
 * The Noise protocol framework's symmetric layer (Noise revision 34, sections 5.1 and 5.2)
 * for the one suite certsync uses: X25519, ChaCha20-Poly1305, SHA-256.
 *
 * Pure: keys and ephemerals come from the caller. Failures to authenticate are reported as
 * `null` from the decrypting calls; the caller decides which error code that means
 * (`handshake-failed` during a handshake, `decrypt-failed` in transport), see
 * spec/session.md, "Errors".
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { expand, extract } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';

/** Length of a hash output, a chaining key, a cipher key and an X25519 key (section 12). */
export const KEY_LENGTH = 32;
/** Length of the Poly1305 tag appended to every ciphertext. */
export const TAG_LENGTH = 16;
/** Noise messages are at most 65535 bytes long (section 3). */
export const MAX_NOISE_MESSAGE = 65535;

const EMPTY = new Uint8Array(0);
/** The nonce 2^64-1 is reserved for rekeying (section 11.3). */
const MAX_NONCE = 0xffff_ffff_ffff_ffffn;

/** ChaChaPoly nonce: 32 zero bits, then the 64-bit counter in little-endian (section 12.3). */
function nonceBytes(n: bigint): Uint8Array {
  const nonce = new Uint8Array(12);
  new DataView(nonce.buffer).setBigUint64(4, n, true);
  return nonce;
}

/**
 * X25519 of a secret key and a peer's public key. Returns `null` when the peer's key is a
 * low-order point (the shared secret would be all zeros): such a key is never honest, and a
 * handshake that meets one fails (section 12.1 allows either choice; certsync rejects).
 */
export function dh(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array | null {
  try {
    return x25519.getSharedSecret(secretKey, publicKey);
  } catch {
    return null;
  }
}

/** The X25519 public key of a 32-byte secret key. */
export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== KEY_LENGTH) {
    throw new TypeError(`expected a 32-byte X25519 secret key, got ${describe(secretKey)}`);
  }
  return x25519.getPublicKey(secretKey);
}

/** Short description of a value for the "expected X, got Y" message shape. */
export function describe(value: unknown): string {
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (value === null) return 'null';
  return typeof value;
}

/** Noise's HKDF (section 4.3): HMAC-SHA-256 keyed by the chaining key, 2 or 3 outputs. */
function hkdf(chainingKey: Uint8Array, ikm: Uint8Array, outputs: 2 | 3): Uint8Array[] {
  const okm = expand(sha256, extract(sha256, ikm, chainingKey), EMPTY, outputs * KEY_LENGTH);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < outputs; i++) parts.push(okm.slice(i * KEY_LENGTH, (i + 1) * KEY_LENGTH));
  return parts;
}

/** One direction's cipher: a key (or none yet) and a 64-bit message counter (section 5.1). */
export class CipherState {
  #key: Uint8Array | null = null;
  #nonce = 0n;

  /** Sets a new key and restarts the counter at zero. */
  initializeKey(key: Uint8Array | null): void {
    this.#key = key;
    this.#nonce = 0n;
  }

  /** True once a key is set; before that, "encryption" is the identity (section 5.1). */
  hasKey(): boolean {
    return this.#key !== null;
  }

  /** The counter the next message will use; both sides keep it in step. */
  get nonce(): bigint {
    return this.#nonce;
  }

  /**
   * Encrypts with the current counter as nonce and advances it.
   * @throws RangeError when the counter is exhausted (never reached in practice: 2^64-1)
   */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (this.#key === null) return plaintext;
    if (this.#nonce >= MAX_NONCE) throw new RangeError('expected a usable nonce, got 2^64-1');
    const out = chacha20poly1305(this.#key, nonceBytes(this.#nonce), ad).encrypt(plaintext);
    this.#nonce++;
    return out;
  }

  /**
   * Decrypts with the current counter as nonce. Returns `null` when the tag does not verify;
   * the counter then stays where it was, and the caller must end the session.
   */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array | null {
    if (this.#key === null) return ciphertext;
    if (this.#nonce >= MAX_NONCE || ciphertext.length < TAG_LENGTH) return null;
    let out: Uint8Array;
    try {
      out = chacha20poly1305(this.#key, nonceBytes(this.#nonce), ad).decrypt(ciphertext);
    } catch {
      return null;
    }
    this.#nonce++;
    return out;
  }

  /** Replaces the key by a one-way function of itself (section 4.2, REKEY); keeps the counter. */
  rekey(): void {
    if (this.#key === null) return;
    const zeros = new Uint8Array(KEY_LENGTH);
    const next = chacha20poly1305(this.#key, nonceBytes(MAX_NONCE), EMPTY).encrypt(zeros);
    this.#key = next.slice(0, KEY_LENGTH);
  }
}

/** The chaining key, the transcript hash and the handshake cipher (section 5.2). */
export class SymmetricState {
  readonly cipher = new CipherState();
  #chainingKey: Uint8Array;
  #hash: Uint8Array;

  /** InitializeSymmetric: the protocol name, zero-padded to 32 bytes or hashed if longer. */
  constructor(protocolName: string) {
    const name = new TextEncoder().encode(protocolName);
    const h = new Uint8Array(KEY_LENGTH);
    if (name.length <= KEY_LENGTH) h.set(name);
    else h.set(sha256(name));
    this.#hash = h;
    this.#chainingKey = h.slice();
  }

  /** The transcript hash so far; after the handshake, it names the session (section 11.2). */
  get handshakeHash(): Uint8Array {
    return this.#hash.slice();
  }

  mixKey(ikm: Uint8Array): void {
    const [ck, k] = hkdf(this.#chainingKey, ikm, 2) as [Uint8Array, Uint8Array];
    this.#chainingKey = ck;
    this.cipher.initializeKey(k);
  }

  mixHash(data: Uint8Array): void {
    const joined = new Uint8Array(this.#hash.length + data.length);
    joined.set(this.#hash);
    joined.set(data, this.#hash.length);
    this.#hash = sha256(joined);
  }

  /** Used for the `psk` token (section 9). */
  mixKeyAndHash(ikm: Uint8Array): void {
    const [ck, h, k] = hkdf(this.#chainingKey, ikm, 3) as [Uint8Array, Uint8Array, Uint8Array];
    this.#chainingKey = ck;
    this.mixHash(h);
    this.cipher.initializeKey(k);
  }

  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.cipher.encryptWithAd(this.#hash, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  /** Returns `null` when the ciphertext does not verify. */
  decryptAndHash(ciphertext: Uint8Array): Uint8Array | null {
    const plaintext = this.cipher.decryptWithAd(this.#hash, ciphertext);
    if (plaintext === null) return null;
    this.mixHash(ciphertext);
    return plaintext;
  }

  /** The two transport ciphers: the first for initiator-to-responder, the second for back. */
  split(): [CipherState, CipherState] {
    const [k1, k2] = hkdf(this.#chainingKey, EMPTY, 2) as [Uint8Array, Uint8Array];
    const c1 = new CipherState();
    const c2 = new CipherState();
    c1.initializeKey(k1);
    c2.initializeKey(k2);
    return [c1, c2];
  }
}
