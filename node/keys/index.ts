/**
 * Keys and the secure session, the node side (spec/session.md): what the client calls.
 *
 * - At `certsync init` the store makes the identity; {@link storeIdentity} reads it as the
 *   session identity, and its `fingerprint` is what `certsync id` prints.
 * - {@link connectSecure} / {@link acceptSecure} run the handshake over any Link and return a
 *   {@link SecureSession} (itself a Link) with the authenticated peer; the same calls pair
 *   (by code or by one-time secret) when asked.
 * - {@link storePeerBook} lists and removes paired peers (`certsync peers`).
 * - {@link encryptPrivateKey} / {@link decryptPrivateKey} keep PKCS#8 keys at rest.
 */
export { createIdentity, identityFromSecrets, systemRandom } from './identity.ts';
export type { Identity, RandomSource } from './identity.ts';
export { MemoryPeerBook, sameIdentityKey } from './peer-book.ts';
export type { PeerBook, PeerRecord } from './peer-book.ts';
export { storeIdentity, storePeerBook } from './store-peer-book.ts';
export { acceptSecure, connectSecure } from './secure-link.ts';
export type {
  ConfirmCode,
  InitiatorIntent,
  ResponderPairing,
  SecureLinkOptions,
  SecureSession,
} from './secure-link.ts';
export {
  DEFAULT_SCRYPT_COST,
  decryptPrivateKey,
  encryptPrivateKey,
  prepareEncryption,
} from './private-key-vault.ts';
export type { KeySealer, ScryptCost } from './private-key-vault.ts';
