/**
 * X.509 certificates (RFC 5280) read through pkijs: the one place certsync turns DER into
 * the fields it shows, stores and compares. pkijs and asn1js types do not leave node/pki.
 */
import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { CertsyncError } from '../../protocol/errors.ts';
import { decodeStrict } from './der-fields.ts';

/** A certificate's fields as certsync keeps them beside its DER. */
export interface ParsedCertificate {
  /** The certificate exactly as received. */
  readonly der: Uint8Array;
  /** SHA-256 of {@link der}; the certificate's key in every store. */
  readonly fingerprint: Uint8Array;
  /** {@link fingerprint} as lowercase hex. */
  readonly fingerprintHex: string;
  /** Subject as `O=Example, CN=Alice, emailAddress=alice@example.org` (encoding order). */
  readonly subject: string;
  /** The subject Name's DER, for exact comparisons (chain building, same-subject search). */
  readonly subjectDer: Uint8Array;
  readonly issuer: string;
  readonly issuerDer: Uint8Array;
  /** The subject's common name, when it has one. */
  readonly commonName: string | undefined;
  /** Serial number as lowercase hex, without the sign byte. */
  readonly serialHex: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /**
   * E-mail addresses from the subject's emailAddress attributes and the SAN's rfc822Name
   * entries (RFC 5280 4.2.1.6), lowercased, without duplicates, subject ones first.
   */
  readonly emails: readonly string[];
  /** `RSA`, `EC`, `Ed25519`, `Ed448`, `RSA-PSS`, `DSA`, or the algorithm's OID. */
  readonly keyAlgorithm: string;
  /** Key size in bits (RSA modulus, EC curve order), when known. */
  readonly keySize: number | undefined;
  /** The EC curve name (`P-256`), when the key is an EC key on a named curve. */
  readonly curve: string | undefined;
  /** basicConstraints cA is true (RFC 5280 4.2.1.9). */
  readonly isCA: boolean;
}

/** Certificates larger than this are refused before parsing. */
export const MAX_CERTIFICATE_BYTES = 1 << 20;

const OID_EMAIL = '1.2.840.113549.1.9.1';
const OID_CN = '2.5.4.3';
const OID_SAN = '2.5.29.17';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';

const ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.42': 'GN',
  '2.5.4.43': 'initials',
  '2.5.4.46': 'dnQualifier',
  '2.5.4.65': 'pseudonym',
  '2.5.4.97': 'organizationIdentifier',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
  [OID_EMAIL]: 'emailAddress',
};

const KEY_ALGORITHMS: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.1': 'RSA',
  '1.2.840.113549.1.1.10': 'RSA-PSS',
  '1.2.840.10045.2.1': 'EC',
  '1.2.840.10040.4.1': 'DSA',
  '1.3.101.110': 'X25519',
  '1.3.101.111': 'X448',
  '1.3.101.112': 'Ed25519',
  '1.3.101.113': 'Ed448',
};

const FIXED_KEY_SIZES: Readonly<Record<string, number>> = {
  X25519: 253,
  X448: 448,
  Ed25519: 256,
  Ed448: 456,
};

const CURVES: Readonly<Record<string, readonly [string, number]>> = {
  '1.2.840.10045.3.1.7': ['P-256', 256],
  '1.3.132.0.34': ['P-384', 384],
  '1.3.132.0.35': ['P-521', 521],
  '1.3.132.0.10': ['secp256k1', 256],
  '1.3.36.3.3.2.8.1.1.7': ['brainpoolP256r1', 256],
  '1.3.36.3.3.2.8.1.1.11': ['brainpoolP384r1', 384],
  '1.3.36.3.3.2.8.1.1.13': ['brainpoolP512r1', 512],
};

/** SHA-256 of `bytes`. */
export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * Throws unless every nested length of `der` stays inside its parent. asn1js lets a child
 * run past its parent's end, so pkijs alone would read a certificate or CRL whose lengths
 * were altered.
 *
 * @throws CertsyncError with `code`, naming `what`
 */
export function requireDerShape(
  der: Uint8Array,
  code: 'bad-certificate' | 'bad-crl',
  what: string,
): void {
  decodeStrict(der, what, (w) => new CertsyncError(code, `${w}: a length runs past its parent`));
}

/**
 * Decodes one whole ASN.1 element from `der`, refusing trailing bytes. For node/pki modules.
 *
 * @throws CertsyncError `code` when the bytes are not one complete ASN.1 element
 */
export function decodeAsn1(
  der: Uint8Array,
  code: 'bad-certificate' | 'bad-crl' | 'bad-input',
  what: string,
): asn1js.AsnType {
  if (der.length === 0) throw new CertsyncError(code, `${what}: empty`);
  let decoded: ReturnType<typeof asn1js.fromBER>;
  try {
    decoded = asn1js.fromBER(der);
  } catch (error) {
    // asn1js throws instead of reporting for some contents it cannot convert: a BMPString of
    // odd length, a UniversalString whose length is not a multiple of 4, a GeneralizedTime
    // that is not a time.
    throw new CertsyncError(code, `${what}: not DER (a string or time value does not decode)`, {
      cause: error,
    });
  }
  if (decoded.offset === -1) {
    const why = decoded.result.error || 'not ASN.1';
    if (why.startsWith('End of input')) {
      throw new CertsyncError(code, `${what}: truncated (the DER ends before its stated length)`);
    }
    throw new CertsyncError(code, `${what}: not DER (${why.replace(/\.$/, '')})`);
  }
  if (decoded.offset !== der.length) {
    throw new CertsyncError(
      code,
      `${what}: ${der.length - decoded.offset} bytes after the end of the DER element`,
    );
  }
  return decoded.result;
}

/**
 * The pkijs object of a certificate, for other node/pki modules (extensions, signatures).
 * Not part of the public API: pkijs types stay inside node/pki.
 *
 * @throws CertsyncError `bad-certificate` naming `what` when `der` is not a certificate
 */
export function loadCertificate(der: Uint8Array, what = 'certificate'): pkijs.Certificate {
  if (der.length > MAX_CERTIFICATE_BYTES) {
    throw new CertsyncError(
      'bad-certificate',
      `${what}: ${der.length} bytes, over the ${MAX_CERTIFICATE_BYTES}-byte limit`,
    );
  }
  const asn1 = decodeAsn1(der, 'bad-certificate', what);
  requireDerShape(der, 'bad-certificate', what);
  try {
    return new pkijs.Certificate({ schema: asn1 });
  } catch (error) {
    throw new CertsyncError('bad-certificate', `${what}: not an X.509 certificate`, {
      cause: error,
    });
  }
}

/** Readable form of a Name, attributes in encoding order: `O=Example, CN=Alice`. */
export function formatName(name: pkijs.RelativeDistinguishedNames): string {
  return name.typesAndValues
    .map((tv) => `${ATTRIBUTE_NAMES[tv.type] ?? tv.type}=${attributeText(tv)}`)
    .join(', ');
}

/** The DER bytes a Name was decoded from. */
export function nameDer(name: pkijs.RelativeDistinguishedNames): Uint8Array {
  return new Uint8Array(name.valueBeforeDecode.slice(0));
}

function attributeText(tv: pkijs.AttributeTypeAndValue): string {
  const value: unknown = tv.value;
  if (value instanceof asn1js.BaseStringBlock) return value.getValue();
  if (value instanceof asn1js.BaseBlock) return `#${toHex(new Uint8Array(value.toBER(false)))}`;
  return String(value);
}

function attributes(name: pkijs.RelativeDistinguishedNames, oid: string): string[] {
  return name.typesAndValues.filter((tv) => tv.type === oid).map(attributeText);
}

/** Lowercase hex of an INTEGER without its sign byte (how serial numbers are shown). */
export function integerHex(value: asn1js.Integer): string {
  let bytes = value.valueBlock.valueHexView;
  while (bytes.length > 1 && bytes[0] === 0) bytes = bytes.subarray(1);
  return toHex(bytes);
}

function bitLength(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  if (i === bytes.length) return 0;
  return (bytes.length - i - 1) * 8 + (32 - Math.clz32(bytes[i] ?? 0));
}

function keyInfo(spki: pkijs.PublicKeyInfo): {
  keyAlgorithm: string;
  keySize: number | undefined;
  curve: string | undefined;
} {
  const oid = spki.algorithm.algorithmId;
  const keyAlgorithm = KEY_ALGORITHMS[oid] ?? oid;
  if (keyAlgorithm === 'RSA' || keyAlgorithm === 'RSA-PSS') {
    // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } (RFC 8017 A.1.1)
    const key = asn1js.fromBER(spki.subjectPublicKey.valueBlock.valueHexView);
    const seq = key.result;
    const modulus = seq instanceof asn1js.Sequence ? seq.valueBlock.value[0] : undefined;
    const keySize =
      modulus instanceof asn1js.Integer ? bitLength(modulus.valueBlock.valueHexView) : undefined;
    return { keyAlgorithm, keySize, curve: undefined };
  }
  if (keyAlgorithm === 'EC') {
    const params = spki.algorithm.algorithmParams;
    const curveOid = params instanceof asn1js.ObjectIdentifier ? params.valueBlock.toString() : '';
    const known = CURVES[curveOid];
    return { keyAlgorithm, keySize: known?.[1], curve: known?.[0] ?? (curveOid || undefined) };
  }
  return { keyAlgorithm, keySize: FIXED_KEY_SIZES[keyAlgorithm], curve: undefined };
}

function extensionValue(cert: pkijs.Certificate, oid: string): unknown {
  return cert.extensions?.find((e) => e.extnID === oid)?.parsedValue;
}

/**
 * Parses a DER certificate into the fields certsync keeps. `der` is kept as given.
 *
 * @param what names the item in error messages, e.g. `alice.pem block 2`
 * @throws CertsyncError `bad-certificate` naming `what` for anything that is not a
 *   complete X.509 certificate (garbage, truncated DER, trailing bytes, over 1 MiB)
 */
export function parseCertificate(der: Uint8Array, what = 'certificate'): ParsedCertificate {
  const cert = loadCertificate(der, what);
  try {
    const emails: string[] = attributes(cert.subject, OID_EMAIL);
    const san = extensionValue(cert, OID_SAN);
    if (san instanceof pkijs.AltName) {
      for (const name of san.altNames) {
        // GeneralName rfc822Name is [1] IA5String; pkijs gives its text as `value`.
        if (name.type === 1 && typeof name.value === 'string') emails.push(name.value);
      }
    }
    const basic = extensionValue(cert, OID_BASIC_CONSTRAINTS);
    const fingerprint = sha256(der);
    return {
      der,
      fingerprint,
      fingerprintHex: toHex(fingerprint),
      subject: formatName(cert.subject),
      subjectDer: nameDer(cert.subject),
      issuer: formatName(cert.issuer),
      issuerDer: nameDer(cert.issuer),
      commonName: attributes(cert.subject, OID_CN)[0],
      serialHex: integerHex(cert.serialNumber),
      notBefore: cert.notBefore.value,
      notAfter: cert.notAfter.value,
      emails: [...new Set(emails.map((e) => e.trim().toLowerCase()).filter(Boolean))],
      ...keyInfo(cert.subjectPublicKeyInfo),
      isCA: basic instanceof pkijs.BasicConstraints && basic.cA === true,
    };
  } catch (error) {
    throw new CertsyncError('bad-certificate', `${what}: a field could not be read`, {
      cause: error,
    });
  }
}
