/**
 * PKCS#7 / CMS SignedData (RFC 5652 section 5) as a carrier of certificates and CRLs: the
 * .p7b/.p7c bundle and the signature of an S/MIME mail.
 *
 * Certificates and CRLs are cut out of the bundle byte for byte (asn1js keeps each element's
 * original encoding), never re-encoded, so their fingerprints match the sender's.
 */
import * as asn1js from 'asn1js';
import { CertsyncError } from '../../protocol/errors.ts';
import { decodeAsn1 } from './certificate.ts';

/** What a SignedData carries. */
export interface Pkcs7Contents {
  /** DER of each certificate, in bundle order. */
  readonly certificates: readonly Uint8Array[];
  /** DER of each CRL, in bundle order. */
  readonly crls: readonly Uint8Array[];
  /** Entries of other kinds (attribute certificates, OCSP responses) that were skipped. */
  readonly skipped: number;
}

/** Bundles larger than this are refused before parsing. */
export const MAX_PKCS7_BYTES = 64 << 20;

const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';
const OID_DATA = '1.2.840.113549.1.7.1';

function children(block: asn1js.AsnType): asn1js.AsnType[] {
  const value: unknown = (block as asn1js.BaseBlock).valueBlock;
  const list = (value as { value?: unknown }).value;
  return Array.isArray(list) ? (list as asn1js.AsnType[]) : [];
}

function isContext(block: asn1js.AsnType | undefined, tag: number): boolean {
  return block?.idBlock.tagClass === 3 && block.idBlock.tagNumber === tag;
}

function isSequence(block: asn1js.AsnType): boolean {
  return block.idBlock.tagClass === 1 && block.idBlock.tagNumber === 16;
}

/** True when `der` starts like a ContentInfo of type signedData. Never throws. */
export function looksLikePkcs7(der: Uint8Array): boolean {
  let decoded: ReturnType<typeof asn1js.fromBER>;
  try {
    decoded = asn1js.fromBER(der);
  } catch {
    return false; // asn1js throws on some string and time contents; readPkcs7 names them
  }
  if (decoded.offset === -1) return false;
  const oid = children(decoded.result)[0];
  return oid instanceof asn1js.ObjectIdentifier && oid.valueBlock.toString() === OID_SIGNED_DATA;
}

/**
 * The certificates and CRLs of a DER or BER ContentInfo holding SignedData.
 *
 * @param what names the item in error messages
 * @throws CertsyncError `bad-input` naming `what` when the bytes are not a SignedData
 */
export function readPkcs7(der: Uint8Array, what = 'PKCS#7 bundle'): Pkcs7Contents {
  if (der.length > MAX_PKCS7_BYTES) {
    throw new CertsyncError('bad-input', `${what}: over the ${MAX_PKCS7_BYTES}-byte limit`);
  }
  const info = decodeAsn1(der, 'bad-input', what);
  const [type, explicit] = children(info);
  if (!(type instanceof asn1js.ObjectIdentifier) || !isContext(explicit, 0)) {
    throw new CertsyncError('bad-input', `${what}: not a PKCS#7 ContentInfo`);
  }
  if (type.valueBlock.toString() !== OID_SIGNED_DATA) {
    throw new CertsyncError(
      'bad-input',
      `${what}: PKCS#7 content ${type.valueBlock.toString()} is not signedData`,
    );
  }
  const signedData = explicit ? children(explicit)[0] : undefined;
  if (!signedData || !isSequence(signedData)) {
    throw new CertsyncError('bad-input', `${what}: SignedData is not a SEQUENCE`);
  }
  // SignedData ::= SEQUENCE { version, digestAlgorithms, encapContentInfo,
  //   certificates [0] IMPLICIT OPTIONAL, crls [1] IMPLICIT OPTIONAL, signerInfos }
  const fields = children(signedData);
  const certificates: Uint8Array[] = [];
  const crls: Uint8Array[] = [];
  let skipped = 0;
  for (const field of fields.slice(3)) {
    const into = isContext(field, 0) ? certificates : isContext(field, 1) ? crls : undefined;
    if (!into) continue;
    for (const item of children(field)) {
      // Only plain Certificate / CertificateList SEQUENCEs are kept; the tagged choices are
      // attribute certificates and other revocation formats (RFC 5652 10.2.1, 10.2.2).
      if (isSequence(item)) into.push(item.valueBeforeDecodeView.slice());
      else skipped++;
    }
  }
  return { certificates, crls, skipped };
}

function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const length = parts.reduce((n, p) => n + p.length, 0);
  const lengthBytes: number[] = [];
  if (length < 0x80) {
    lengthBytes.push(length);
  } else {
    for (let n = length; n > 0; n = Math.floor(n / 256)) lengthBytes.unshift(n & 0xff);
    lengthBytes.unshift(0x80 | lengthBytes.length);
  }
  const out = new Uint8Array(1 + lengthBytes.length + length);
  out[0] = tag;
  out.set(lengthBytes, 1);
  let at = 1 + lengthBytes.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function oid(dotted: string): Uint8Array {
  return new Uint8Array(new asn1js.ObjectIdentifier({ value: dotted }).toBER(false));
}

/**
 * A certificates-only ("degenerate") SignedData bundle, as `openssl crl2pkcs7` writes: no
 * signers, the certificates and CRLs embedded byte for byte in the given order.
 */
export function encodePkcs7(
  certificates: readonly Uint8Array[],
  crls: readonly Uint8Array[] = [],
): Uint8Array {
  const fields = [
    tlv(0x02, Uint8Array.of(1)), // version 1
    tlv(0x31), // digestAlgorithms: empty SET
    tlv(0x30, oid(OID_DATA)), // encapContentInfo without content
  ];
  if (certificates.length) fields.push(tlv(0xa0, ...certificates));
  if (crls.length) fields.push(tlv(0xa1, ...crls));
  fields.push(tlv(0x31)); // signerInfos: empty SET
  return tlv(0x30, oid(OID_SIGNED_DATA), tlv(0xa0, tlv(0x30, ...fields)));
}
