/**
 * A client's long-term identity (spec/session.md, "Identity"): an X25519 key pair, the static
 * key of every handshake, and an Ed25519 key pair kept beside it for signatures. Created once
 * at `certsync init` with the system's randomness and kept in the store's `identity` table.
 */
import { randomBytes } from 'node:crypto';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { identityFingerprint } from '../../protocol/secure/fingerprint.ts';

/** Both key pairs and the fingerprint users compare. Secret keys never leave the client. */
export interface Identity {
  readonly x25519SecretKey: Uint8Array;
  readonly x25519PublicKey: Uint8Array;
  readonly ed25519SecretKey: Uint8Array;
  readonly ed25519PublicKey: Uint8Array;
  /** {@link identityFingerprint} of the X25519 public key: what `certsync id` prints. */
  readonly fingerprint: string;
}

/** A source of random bytes; the default is the operating system's (node:crypto). */
export type RandomSource = (length: number) => Uint8Array;

/** The operating system's randomness as a {@link RandomSource}. */
export const systemRandom: RandomSource = (length) => new Uint8Array(randomBytes(length));

function check32(value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== 32) {
    const got = value instanceof Uint8Array ? `${value.length} bytes` : typeof value;
    throw new TypeError(`expected ${what} of 32 bytes, got ${got}`);
  }
  return value;
}

/**
 * Rebuilds an identity from its two stored secret keys (32 bytes each).
 * @throws TypeError when a key is not 32 bytes
 */
export function identityFromSecrets(x25519Secret: Uint8Array, ed25519Secret: Uint8Array): Identity {
  const xs = check32(x25519Secret, 'an X25519 secret key').slice();
  const es = check32(ed25519Secret, 'an Ed25519 secret key').slice();
  const xp = x25519.getPublicKey(xs);
  return {
    x25519SecretKey: xs,
    x25519PublicKey: xp,
    ed25519SecretKey: es,
    ed25519PublicKey: ed25519.getPublicKey(es),
    fingerprint: identityFingerprint(xp),
  };
}

/** Creates a new identity from `random` (the system's randomness unless a test passes one). */
export function createIdentity(random: RandomSource = systemRandom): Identity {
  return identityFromSecrets(random(32), random(32));
}
