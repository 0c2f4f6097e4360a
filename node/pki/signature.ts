/**
 * Signature algorithms and public keys as the validator sees them: which ones certsync
 * accepts, why it refuses the others, and verification of a signed structure's bytes.
 *
 * Verification uses Node's crypto (OpenSSL underneath), which covers RSA PKCS #1 v1.5,
 * RSA-PSS, ECDSA and Ed25519 synchronously, so a validator can count and bound every
 * check it makes. Algorithm identifiers and keys are read with der-fields.ts.
 */
import { createPublicKey, verify as cryptoVerify, constants, type KeyObject } from 'node:crypto';
import {
  bitStringOf,
  contentOf,
  decodeStrict,
  itemsOf,
  oidOf,
  readAlgorithm,
  smallInt,
  TAG,
  type Der,
  type Invalid,
} from './der-fields.ts';

/** An AlgorithmIdentifier (RFC 5280 4.1.1.2): its OID and the DER of its parameters. */
export interface AlgorithmId {
  readonly oid: string;
  /** DER of the parameters field, absent when the field is absent. */
  readonly params?: Uint8Array;
}

/** What certsync makes of a signature algorithm. */
export interface SignatureAlgorithmInfo {
  /** A short name for people, e.g. `sha256WithRSAEncryption`, or the OID if unknown. */
  readonly name: string;
  /** Set when certsync refuses the algorithm: a sentence saying why. */
  readonly refused?: string;
}

/** What certsync makes of a subject public key. */
export interface PublicKeyInfo {
  /** `rsa`, `ec`, `ed25519`, `ed448`, `dsa` or the algorithm OID. */
  readonly type: string;
  /** RSA modulus size or curve size in bits, when known. */
  readonly bits?: number;
  /** Named curve for EC keys (`P-256`, ...). */
  readonly curve?: string;
  /** Set when certsync refuses the key: a sentence saying why. */
  readonly refused?: string;
}

// Refused algorithms keep their hash so that a path through them can still be built and
// then reported as weak, instead of as a missing issuer.
const SIG_ALGS: Record<string, { name: string; hash?: string; weak?: string }> = {
  '1.2.840.113549.1.1.4': { name: 'md5WithRSAEncryption', hash: 'md5', weak: 'MD5 is broken' },
  '1.2.840.113549.1.1.2': { name: 'md2WithRSAEncryption', weak: 'MD2 is broken' },
  '1.2.840.113549.1.1.5': {
    name: 'sha1WithRSAEncryption',
    hash: 'sha1',
    weak: 'SHA-1 signatures are weak',
  },
  '1.2.840.10045.4.1': { name: 'ecdsa-with-SHA1', hash: 'sha1', weak: 'SHA-1 signatures are weak' },
  '1.2.840.10040.4.3': {
    name: 'dsa-with-SHA1',
    hash: 'sha1',
    weak: 'DSA signatures are not accepted',
  },
  '2.16.840.1.101.3.4.3.2': {
    name: 'dsa-with-SHA256',
    hash: 'sha256',
    weak: 'DSA signatures are not accepted',
  },
  '1.2.840.113549.1.1.11': { name: 'sha256WithRSAEncryption', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { name: 'sha384WithRSAEncryption', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { name: 'sha512WithRSAEncryption', hash: 'sha512' },
  '1.2.840.113549.1.1.10': { name: 'RSASSA-PSS' },
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', hash: 'sha512' },
  '1.3.101.112': { name: 'Ed25519' },
};

const HASH_OIDS: Record<string, string> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
  '1.3.14.3.2.26': 'sha1',
};

const CURVES: Record<string, { name: string; bits: number; weak?: string }> = {
  '1.2.840.10045.3.1.7': { name: 'P-256', bits: 256 },
  '1.3.132.0.34': { name: 'P-384', bits: 384 },
  '1.3.132.0.35': { name: 'P-521', bits: 521 },
  '1.2.840.10045.3.1.1': { name: 'P-192', bits: 192, weak: 'P-192 keys are too small' },
  '1.3.132.0.33': { name: 'P-224', bits: 224, weak: 'P-224 keys are too small' },
};

/** The smallest RSA modulus certsync accepts (NIST SP 800-131A: 2048 bits since 2014). */
export const MIN_RSA_BITS = 2048;

const never: Invalid = (what) => new RangeError(what);

function decode(bytes: Uint8Array): Der | null {
  try {
    return decodeStrict(bytes, 'DER', never);
  } catch {
    return null;
  }
}

function hashOf(algorithm: Der | undefined): string {
  try {
    return HASH_OIDS[readAlgorithm(algorithm, never).oid] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** RSASSA-PSS-params (RFC 4055 3.1): hash and salt length; MGF1 must use the same hash. */
function pssParams(params: Uint8Array | undefined): { hash: string; salt: number } | null {
  let hash = 'sha1';
  let salt = 20;
  let mgfHash = 'sha1';
  if (params) {
    const seq = decode(params);
    if (seq?.tag !== TAG.sequence) return null;
    for (const item of itemsOf(seq)) {
      const inner = itemsOf(item)[0];
      if (!inner) return null;
      if (item.tag === 0xa0) hash = hashOf(inner);
      else if (item.tag === 0xa1) mgfHash = hashOf(itemsOf(inner)[1]);
      else if (item.tag === 0xa2) {
        try {
          salt = smallInt(inner, never, 'salt');
        } catch {
          return null;
        }
      } else if (item.tag !== 0xa3) return null;
    }
  }
  if (hash !== mgfHash || hash === 'unknown' || salt > 512) return null;
  return { hash, salt };
}

/** Names a signature algorithm and says whether certsync refuses it, and why. Never throws. */
export function describeSignatureAlgorithm(alg: AlgorithmId): SignatureAlgorithmInfo {
  const known = SIG_ALGS[alg.oid];
  if (!known) return { name: alg.oid, refused: `signature algorithm ${alg.oid} is not supported` };
  if (known.weak) return { name: known.name, refused: `${known.name}: ${known.weak}` };
  if (alg.oid === '1.2.840.113549.1.1.10') {
    const p = pssParams(alg.params);
    if (!p) return { name: known.name, refused: 'RSASSA-PSS parameters are not supported' };
    if (p.hash === 'sha1') return { name: known.name, refused: 'SHA-1 signatures are weak' };
    return { name: `RSASSA-PSS/${p.hash}` };
  }
  return { name: known.name };
}

/** Reads the algorithm and size of a DER SubjectPublicKeyInfo and says whether it is refused. */
export function describePublicKey(spki: Uint8Array): PublicKeyInfo {
  const seq = decode(spki);
  const [alg, bits] = itemsOf(seq ?? undefined);
  const [oidNode, param] = itemsOf(alg);
  if (oidNode?.tag !== TAG.oid || bits?.tag !== TAG.bitString) {
    return { type: 'unknown', refused: 'the public key is not well formed' };
  }
  const oid = oidOf(oidNode, never, 'key algorithm');
  if (oid === '1.2.840.113549.1.1.1' || oid === '1.2.840.113549.1.1.10') {
    const size = rsaModulusBits(bits);
    if (size === 0) return { type: 'rsa', refused: 'the RSA public key is not well formed' };
    if (size < MIN_RSA_BITS) {
      return { type: 'rsa', bits: size, refused: `RSA keys under ${MIN_RSA_BITS} bits are weak` };
    }
    return { type: 'rsa', bits: size };
  }
  if (oid === '1.2.840.10045.2.1') {
    const curveOid = param?.tag === TAG.oid ? oidOf(param, never, 'curve') : '';
    const curve = CURVES[curveOid];
    if (!curve)
      return { type: 'ec', refused: `elliptic curve ${curveOid || '?'} is not supported` };
    return {
      type: 'ec',
      bits: curve.bits,
      curve: curve.name,
      ...(curve.weak && { refused: curve.weak }),
    };
  }
  if (oid === '1.3.101.112') return { type: 'ed25519', bits: 256 };
  if (oid === '1.3.101.113') return { type: 'ed448', refused: 'Ed448 keys are not supported' };
  if (oid === '1.2.840.10040.4.1') return { type: 'dsa', refused: 'DSA keys are not accepted' };
  return { type: oid, refused: `public key algorithm ${oid} is not supported` };
}

function rsaModulusBits(bitString: Der): number {
  let key: Uint8Array;
  try {
    key = bitStringOf(bitString, never, 'key').bytes;
  } catch {
    return 0;
  }
  const modulus = itemsOf(decode(key) ?? undefined)[0];
  if (modulus?.tag !== TAG.integer) return 0;
  const m = contentOf(modulus);
  let i = 0;
  while (i < m.length && m[i] === 0) i++;
  if (i === m.length) return 0;
  return (m.length - i - 1) * 8 + (32 - Math.clz32(m[i] as number));
}

/**
 * A public key ready to verify with. Importing costs more than a hash, so callers that
 * check many signatures by one issuer keep the handle.
 * @throws RangeError when the bytes are not a SubjectPublicKeyInfo Node can import
 */
export function importPublicKey(spki: Uint8Array): KeyObject {
  try {
    return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch (cause) {
    throw new RangeError('expected a DER SubjectPublicKeyInfo, got bytes that do not import', {
      cause,
    });
  }
}

/**
 * Verifies `signature` over `data` with `key` under `alg`. Returns false for a signature
 * that does not verify and for an algorithm it cannot compute. A refused but computable
 * algorithm (SHA-1, MD5, DSA) is still verified, so that the caller can build the path and
 * then refuse it by name through {@link describeSignatureAlgorithm}. Never throws.
 */
export function verifySignature(
  alg: AlgorithmId,
  data: Uint8Array,
  signature: Uint8Array,
  key: KeyObject,
): boolean {
  const info = SIG_ALGS[alg.oid];
  if (!info || (!info.hash && alg.oid !== '1.3.101.112' && alg.oid !== '1.2.840.113549.1.1.10')) {
    return false;
  }
  try {
    if (alg.oid === '1.3.101.112') {
      return key.asymmetricKeyType === 'ed25519' && cryptoVerify(null, data, key, signature);
    }
    if (alg.oid === '1.2.840.113549.1.1.10') {
      const p = pssParams(alg.params);
      if (!p || key.asymmetricKeyType?.startsWith('rsa') !== true) return false;
      return cryptoVerify(
        p.hash,
        data,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: p.salt },
        signature,
      );
    }
    const family = alg.oid.startsWith('1.2.840.10045')
      ? 'ec'
      : alg.oid.startsWith('1.2.840.10040') || alg.oid.startsWith('2.16.840.1.101.3.4.3')
        ? 'dsa'
        : 'rsa';
    if (key.asymmetricKeyType !== family) return false;
    return cryptoVerify(info.hash as string, data, key, signature);
  } catch {
    // OpenSSL throws on a signature of the wrong shape; for the validator that is simply
    // a signature that does not verify.
    return false;
  }
}
