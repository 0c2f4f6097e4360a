/**
 * PKCS#8 private keys (RFC 5958) as files hold them, read through node:crypto: plain
 * (`PRIVATE KEY`) or encrypted as openssl writes them (`ENCRYPTED PRIVATE KEY`, PBES2), in
 * PEM or DER. Nothing else is taken for a key: the older per-algorithm forms (`RSA PRIVATE
 * KEY`, `EC PRIVATE KEY`) are refused with the openssl command that converts them. Errors of
 * node:crypto are translated here; none leaves this file.
 */
import { X509Certificate, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { CertsyncError } from '../../protocol/errors.ts';
import { decodePem, encodePem, looksLikePem } from '../pki/index.ts';

/** Key files larger than this are refused unread (an RSA 8192 key is under 5 KiB). */
export const MAX_KEY_FILE_BYTES = 64 * 1024;

/** A private key read from a file. */
export interface ReadPrivateKey {
  /** The key as plain PKCS#8 DER (decrypted when the file was encrypted). */
  readonly pkcs8: Uint8Array;
  /** True when the file held it encrypted. */
  readonly encrypted: boolean;
}

const KEY_LABELS = new Set(['PRIVATE KEY', 'ENCRYPTED PRIVATE KEY']);
const OLD_LABELS = /^(RSA|EC|DSA|OPENSSH) PRIVATE KEY$/;

/** The tag of the first element inside the outer SEQUENCE, or -1 when not a whole SEQUENCE. */
function innerTag(der: Uint8Array): number {
  if (der.length < 2 || der[0] !== 0x30) return -1;
  const first = der[1] as number;
  let header = 2;
  let length = first;
  if (first >= 0x80) {
    const count = first & 0x7f;
    if (count < 1 || count > 3 || der.length < 2 + count) return -1;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (der[2 + i] as number);
    header = 2 + count;
  }
  if (header + length !== der.length) return -1;
  return der[header] ?? -1;
}

/** The DER of the one key a file holds, and whether it is encrypted. */
function keyDer(bytes: Uint8Array, what: string): { der: Uint8Array; encrypted: boolean } {
  if (looksLikePem(bytes)) {
    const blocks = decodePem(Buffer.from(bytes).toString('latin1'), what);
    const old = blocks.find((b) => OLD_LABELS.test(b.label));
    const keys = blocks.filter((b) => KEY_LABELS.has(b.label));
    if (keys.length === 0 && old) {
      throw new CertsyncError(
        'bad-input',
        `${what}: a ${old.label} block is not PKCS#8; convert it with \`openssl pkcs8 -topk8\``,
      );
    }
    if (keys.length === 0) throw new CertsyncError('bad-input', `${what}: no PRIVATE KEY block`);
    if (keys.length > 1) {
      throw new CertsyncError('bad-input', `${what}: holds ${keys.length} private keys, not one`);
    }
    const block = keys[0] as (typeof keys)[number];
    if (block.der === undefined) {
      throw new CertsyncError('bad-input', `${what} block ${block.index}: ${block.problem}`);
    }
    return { der: block.der, encrypted: block.label === 'ENCRYPTED PRIVATE KEY' };
  }
  // PrivateKeyInfo opens with its version (INTEGER), EncryptedPrivateKeyInfo with the
  // encryption algorithm (SEQUENCE).
  const tag = innerTag(bytes);
  if (tag === 0x02) return { der: bytes, encrypted: false };
  if (tag === 0x30) return { der: bytes, encrypted: true };
  throw new CertsyncError('bad-input', `${what}: not a PKCS#8 private key (PEM or DER)`);
}

/**
 * Reads the one PKCS#8 private key in a file's bytes.
 *
 * @param what names the file in errors
 * @param passphrase opens an encrypted key; asked for only when the file is encrypted
 * @throws CertsyncError `bad-input` naming `what`: too large, not PKCS#8, several keys, a
 *   damaged key, or an encrypted key without a passphrase or with a wrong one
 */
export async function readPrivateKeyFile(
  bytes: Uint8Array,
  what: string,
  passphrase: () => Promise<string>,
): Promise<ReadPrivateKey> {
  if (bytes.length > MAX_KEY_FILE_BYTES) {
    throw new CertsyncError('bad-input', `${what}: over ${MAX_KEY_FILE_BYTES} bytes, not a key`);
  }
  const { der, encrypted } = keyDer(bytes, what);
  if (!encrypted) {
    privateKeyObject(der, what);
    return { pkcs8: der, encrypted };
  }
  const secret = await passphrase();
  let key: KeyObject;
  try {
    key = createPrivateKey({
      key: Buffer.from(der),
      format: 'der',
      type: 'pkcs8',
      passphrase: secret,
    });
  } catch (error) {
    throw new CertsyncError(
      'bad-input',
      `${what}: the encrypted key does not open with this passphrase (wrong passphrase or damaged)`,
      { cause: error },
    );
  }
  return { pkcs8: new Uint8Array(key.export({ type: 'pkcs8', format: 'der' })), encrypted };
}

function privateKeyObject(pkcs8: Uint8Array, what: string): KeyObject {
  if (innerTag(pkcs8) !== 0x02) {
    throw new CertsyncError('bad-input', `${what}: not a PKCS#8 private key`);
  }
  try {
    return createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
  } catch (error) {
    throw new CertsyncError('bad-input', `${what}: a damaged or unsupported PKCS#8 key`, {
      cause: error,
    });
  }
}

/**
 * The public key (SubjectPublicKeyInfo DER) of a plain PKCS#8 key.
 *
 * @throws CertsyncError `bad-input` naming `what` when it is not a readable PKCS#8 key
 */
export function publicKeyOf(pkcs8: Uint8Array, what = 'private key'): Uint8Array {
  const key = createPublicKey(privateKeyObject(pkcs8, what));
  return new Uint8Array(key.export({ type: 'spki', format: 'der' }));
}

/**
 * The public key (SubjectPublicKeyInfo DER) a certificate names, or undefined when
 * node:crypto cannot read its key.
 */
export function certificatePublicKey(certificateDer: Uint8Array): Uint8Array | undefined {
  try {
    const spki = new X509Certificate(Buffer.from(certificateDer)).publicKey;
    return new Uint8Array(spki.export({ type: 'spki', format: 'der' }));
  } catch {
    return undefined;
  }
}

/** What kind of key it is, for people: `EC P-256`, `RSA 2048`, `Ed25519`. */
export function describePrivateKey(pkcs8: Uint8Array): string {
  const key = privateKeyObject(pkcs8, 'private key');
  const details = key.asymmetricKeyDetails ?? {};
  const type = (key.asymmetricKeyType ?? 'unknown').toUpperCase();
  if (details.namedCurve) return `${type} ${curveName(details.namedCurve)}`;
  if (details.modulusLength) return `${type} ${details.modulusLength}`;
  return key.asymmetricKeyType === 'ed25519' ? 'Ed25519' : type;
}

function curveName(curve: string): string {
  const names: Record<string, string> = {
    prime256v1: 'P-256',
    secp384r1: 'P-384',
    secp521r1: 'P-521',
  };
  return names[curve] ?? curve;
}

/** PEM text of a plain PKCS#8 key (`PRIVATE KEY`). */
export function privateKeyPem(pkcs8: Uint8Array): string {
  return encodePem('PRIVATE KEY', pkcs8);
}
