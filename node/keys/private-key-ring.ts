/**
 * The private keys of a store (spec/session.md, "Private keys at rest"): each PKCS#8 key is
 * kept encrypted under the store's passphrase (private-key-vault.ts) beside the certificate
 * whose public key it matches. One passphrase opens every key of a store: a new key is
 * stored only under the passphrase that opens those already there.
 */
import { CertsyncError, isCertsyncError } from '../../protocol/errors.ts';
import type { CertificateRecord, Store } from '../store/index.ts';
import { certificatePublicKey, publicKeyOf } from './pkcs8.ts';
import {
  decryptPrivateKey,
  encryptPrivateKey,
  type KeySealer,
  type ScryptCost,
} from './private-key-vault.ts';

/** One stored key, as `certsync key list` shows it. */
export interface StoredKey {
  /** The certificate's fingerprint (hex): how a user names the key. */
  readonly fingerprint: string;
  readonly addedAt: Date;
  /** The certificate, or undefined when it has left the store since. */
  readonly certificate: CertificateRecord | undefined;
}

/** The store's keys, oldest first. */
export function listPrivateKeys(store: Store): StoredKey[] {
  return store.privateKeys.entries().map((e) => ({
    fingerprint: Buffer.from(e.fingerprint).toString('hex'),
    addedAt: e.addedAt,
    certificate: store.certificates.get(e.fingerprint),
  }));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** True when `pkcs8` is the private key of the certificate `certificateDer`. */
export function keyMatchesCertificate(pkcs8: Uint8Array, certificateDer: Uint8Array): boolean {
  const own = certificatePublicKey(certificateDer);
  return own !== undefined && sameBytes(own, publicKeyOf(pkcs8));
}

/**
 * The certificate of the store whose public key `pkcs8` matches: the one named by
 * `fingerprint` when given, else the only one.
 *
 * @throws CertsyncError `not-found` when no certificate of the store (or not the named one)
 *   has this public key; `bad-input` when several do and none was named, or the key is
 *   not a readable PKCS#8 key
 */
export function certificateForKey(
  store: Store,
  pkcs8: Uint8Array,
  fingerprint?: Uint8Array,
): CertificateRecord {
  const pub = publicKeyOf(pkcs8);
  const named = fingerprint ? store.certificates.get(fingerprint) : undefined;
  const candidates = fingerprint ? (named ? [named] : []) : store.certificates.list('store');
  const matching = candidates.filter((r) => {
    const der = store.certificates.der(r.fingerprint);
    const own = der ? certificatePublicKey(der) : undefined;
    return own !== undefined && sameBytes(own, pub);
  });
  const [first] = matching;
  if (!first) {
    throw new CertsyncError(
      'not-found',
      fingerprint
        ? 'the key does not belong to the certificate named'
        : "no certificate in the store has this key's public key; import the certificate first",
    );
  }
  if (matching.length > 1) {
    throw new CertsyncError(
      'bad-input',
      `${matching.length} certificates in the store have this key's public key; name one`,
    );
  }
  return first;
}

/**
 * Checks that `passphrase` opens the keys the store already holds (any passphrase will do
 * for a store without keys).
 *
 * @throws CertsyncError `bad-input` for a wrong passphrase
 */
export async function checkPassphrase(store: Store, passphrase: string): Promise<void> {
  const [first] = store.privateKeys.list();
  if (!first) return;
  await openBlob(store.privateKeys.get(first) as Uint8Array, passphrase, 'this store');
}

async function openBlob(blob: Uint8Array, passphrase: string, what: string) {
  try {
    return await decryptPrivateKey(blob, passphrase);
  } catch (error) {
    if (!isCertsyncError(error)) throw error;
    throw new CertsyncError(
      'bad-input',
      `wrong passphrase: it does not open the private keys of ${what}`,
      { cause: error },
    );
  }
}

/**
 * The plain PKCS#8 key of the certificate `fingerprint`.
 *
 * @throws CertsyncError `not-found` when the store holds no key for it; `bad-input` for a
 *   wrong passphrase (or a damaged blob: the two cannot be told apart)
 */
export async function openPrivateKey(
  store: Store,
  fingerprint: Uint8Array,
  passphrase: string,
): Promise<Uint8Array> {
  const blob = store.privateKeys.get(fingerprint);
  if (!blob) {
    throw new CertsyncError('not-found', 'the store holds no private key for this certificate');
  }
  return openBlob(blob, passphrase, 'this store');
}

/** What storing a key did. */
export type KeyOutcome = 'stored' | 'unchanged';

/**
 * Stores `pkcs8` encrypted under `passphrase` beside its certificate (found by public key, or
 * the one named). A certificate's key is unique, so one already stored is left as it is.
 *
 * @throws CertsyncError as {@link certificateForKey}, and `bad-input` for a passphrase that
 *   does not open the keys already stored
 */
export async function importPrivateKey(
  store: Store,
  pkcs8: Uint8Array,
  passphrase: string,
  options: { fingerprint?: Uint8Array; cost?: ScryptCost } = {},
): Promise<{ certificate: CertificateRecord; outcome: KeyOutcome }> {
  const certificate = certificateForKey(store, pkcs8, options.fingerprint);
  await checkPassphrase(store, passphrase);
  if (store.privateKeys.get(certificate.fingerprint)) return { certificate, outcome: 'unchanged' };
  const blob = await encryptPrivateKey(
    pkcs8,
    passphrase,
    options.cost ? { cost: options.cost } : {},
  );
  store.privateKeys.put(certificate.fingerprint, blob);
  return { certificate, outcome: 'stored' };
}

/**
 * Stores a key received from a peer for the certificate `fingerprint`, sealed at once with a
 * sealer prepared under the store's passphrase (checked beforehand with
 * {@link checkPassphrase}).
 *
 * @throws CertsyncError `not-found` when the store lacks the certificate; `bad-input` when
 *   the key is not its key or not a readable PKCS#8 key
 */
export function storeReceivedKey(
  store: Store,
  fingerprint: Uint8Array,
  pkcs8: Uint8Array,
  sealer: KeySealer,
): KeyOutcome {
  const der = store.certificates.der(fingerprint);
  if (!der) throw new CertsyncError('not-found', 'the certificate of the key is not in the store');
  if (!keyMatchesCertificate(pkcs8, der)) {
    throw new CertsyncError('bad-input', 'the key received is not the key of its certificate');
  }
  if (store.privateKeys.get(fingerprint)) return 'unchanged';
  store.privateKeys.put(fingerprint, sealer.seal(pkcs8));
  return 'stored';
}
