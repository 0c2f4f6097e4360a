/**
 * OCSP (RFC 6960) on the wire: building a request for one certificate and reading a
 * response into plain facts. Whether a response may be believed (signature, signer,
 * freshness, CertID, nonce) is decided by the validator, not here.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import { CertsyncError } from '../../protocol/errors.ts';
import {
  decodeStrict,
  hex,
  integerHex,
  itemsOf,
  oidOf,
  readAlgorithm,
  readExtensionList,
  readName,
  readTime,
  type DistinguishedName,
} from './der-fields.ts';
import type { CertificateFacts } from './extensions.ts';
import type { AlgorithmId } from './signature.ts';

/** id-pkix-ocsp-nonce (RFC 6960 4.4.1). */
const NONCE_OID = '1.3.6.1.5.5.7.48.1.2';
const SHA1_OID = '1.3.14.3.2.26';
const SHA256_OID = '2.16.840.1.101.3.4.2.1';
const BASIC_OID = '1.3.6.1.5.5.7.48.1.1';
const STATUSES = [
  'successful',
  'malformedRequest',
  'internalError',
  'tryLater',
  '',
  'sigRequired',
  'unauthorized',
];

/** CertID (RFC 6960 4.1.1) in hex. */
export interface CertId {
  readonly hashAlgorithm: string;
  readonly issuerNameHash: string;
  readonly issuerKeyHash: string;
  readonly serial: string;
}

/** One SingleResponse. */
export interface OcspSingleResponse {
  readonly certId: CertId;
  readonly status: 'good' | 'revoked' | 'unknown';
  readonly revokedAt?: Date;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  readonly unknownCritical: readonly string[];
}

/** A BasicOCSPResponse. */
export interface OcspBasicResponse {
  readonly tbs: Uint8Array;
  readonly signatureAlgorithm: AlgorithmId;
  readonly signature: Uint8Array;
  readonly responderName?: DistinguishedName;
  /** SHA-1 of the responder's public key bits, hex (ResponderID byKey). */
  readonly responderKeyHash?: string;
  readonly producedAt: Date;
  readonly responses: readonly OcspSingleResponse[];
  /** DER of the certificates the responder included. */
  readonly certs: readonly Uint8Array[];
  /** The nonce extension's value as hex, when present. */
  readonly nonce?: string;
  readonly unknownCritical: readonly string[];
}

/** A whole OCSPResponse. */
export interface OcspResponseFacts {
  readonly status: string;
  readonly basic?: OcspBasicResponse;
}

/** An OCSP request ready to POST, with the nonce it carries (hex). */
export interface OcspRequest {
  readonly der: Uint8Array;
  readonly nonce: string;
  readonly certId: CertId;
}

/** At most this many SingleResponses and certificates are read from one response. */
export const MAX_OCSP_ITEMS = 1000;

function malformed(what: string, cause?: unknown): CertsyncError {
  return new CertsyncError('bad-input', `OCSP response is malformed: ${what}`, { cause });
}

/** The CertID of `cert` issued by `issuer` under `hash` (RFC 6960 4.1.1). */
export function certIdFor(
  cert: CertificateFacts,
  issuer: CertificateFacts,
  hash: 'sha1' | 'sha256' = 'sha1',
): CertId {
  const h = (b: Uint8Array): string => createHash(hash).update(b).digest('hex');
  return {
    hashAlgorithm: hash === 'sha1' ? SHA1_OID : SHA256_OID,
    issuerNameHash: h(cert.issuer.der),
    issuerKeyHash: h(issuer.publicKeyBits),
    serial: cert.serial,
  };
}

/** The CertID of `cert` under the hash algorithm named by `hashOid`, or undefined if unknown. */
export function certIdUnder(
  hashOid: string,
  cert: CertificateFacts,
  issuer: CertificateFacts,
): CertId | undefined {
  if (hashOid === SHA1_OID) return certIdFor(cert, issuer, 'sha1');
  if (hashOid === SHA256_OID) return certIdFor(cert, issuer, 'sha256');
  return undefined;
}

/** SHA-1 of a public key's bits, as ResponderID byKey carries it. */
export function keyHash(cert: CertificateFacts): string {
  return createHash('sha1').update(cert.publicKeyBits).digest('hex');
}

/**
 * Builds a DER OCSPRequest for `cert` with a fresh 16-byte nonce (RFC 8954 asks for 1 to
 * 32 bytes). CertID uses SHA-1, which every responder answers; its collision weakness does
 * not matter for an identifier the responder signs over.
 */
export function buildOcspRequest(cert: CertificateFacts, issuer: CertificateFacts): OcspRequest {
  const certId = certIdFor(cert, issuer);
  const nonceInner = new asn1js.OctetString({ valueHex: randomBytes(16) }).toBER();
  const seq = (...value: asn1js.AsnType[]): asn1js.Sequence => new asn1js.Sequence({ value });
  const octets = (h: string): asn1js.OctetString =>
    new asn1js.OctetString({ valueHex: Buffer.from(h, 'hex') });
  const reqCert = seq(
    seq(new asn1js.ObjectIdentifier({ value: SHA1_OID }), new asn1js.Null()),
    octets(certId.issuerNameHash),
    octets(certId.issuerKeyHash),
    new asn1js.Integer({ valueHex: Buffer.from(cert.serial, 'hex') }),
  );
  const nonceExt = seq(
    new asn1js.ObjectIdentifier({ value: NONCE_OID }),
    new asn1js.OctetString({ valueHex: nonceInner }),
  );
  // OCSPRequest { tbsRequest { requestList { Request { reqCert } }, [2] requestExtensions } }
  const requestExtensions = new asn1js.Constructed({
    idBlock: { tagClass: 3, tagNumber: 2 },
    value: [seq(nonceExt)],
  });
  const request = seq(seq(seq(seq(reqCert)), requestExtensions));
  return {
    der: new Uint8Array(request.toBER()),
    nonce: hex(new Uint8Array(nonceInner)),
    certId,
  };
}

/**
 * Reads a DER OCSPResponse. A non-successful status is returned, not thrown.
 * @throws CertsyncError `bad-input` naming the field that does not decode
 */
export function readOcspResponse(der: Uint8Array): OcspResponseFacts {
  const outer = decodeStrict(der, 'not a DER OCSPResponse', malformed);
  if (!(outer instanceof asn1js.Sequence)) throw malformed('not an OCSPResponse');
  const [statusBlock, bytesBlock] = itemsOf(outer);
  if (!(statusBlock instanceof asn1js.Enumerated)) throw malformed('response status');
  const status = STATUSES[statusBlock.valueBlock.valueDec] || 'unknown status';
  if (status !== 'successful') return { status };
  const responseBytes = itemsOf(bytesBlock)[0];
  const [typeBlock, octets] = itemsOf(responseBytes);
  if (oidOf(typeBlock, malformed, 'response type') !== BASIC_OID) {
    throw malformed('response type is not id-pkix-ocsp-basic');
  }
  if (!(octets instanceof asn1js.OctetString)) throw malformed('response bytes');
  return { status, basic: readBasic(octets.valueBlock.valueHexView) };
}

function readBasic(bytes: Uint8Array): OcspBasicResponse {
  const basic = decodeStrict(bytes, 'BasicOCSPResponse', malformed);
  if (!(basic instanceof asn1js.Sequence)) throw malformed('BasicOCSPResponse structure');
  const [tbsBlock, algBlock, sigBlock, certsBlock] = itemsOf(basic);
  if (
    !(tbsBlock instanceof asn1js.Sequence) ||
    !algBlock ||
    !(sigBlock instanceof asn1js.BitString)
  ) {
    throw malformed('BasicOCSPResponse structure');
  }
  const items = itemsOf(tbsBlock);
  let i = items[0]?.idBlock.tagClass === 3 && items[0].idBlock.tagNumber === 0 ? 1 : 0;
  const responder = items[i++];
  if (!responder || responder.idBlock.tagClass !== 3) throw malformed('responder ID');
  const producedAt = readTime(items[i++], malformed);
  const list = itemsOf(items[i++]);
  if (list.length > MAX_OCSP_ITEMS) throw malformed(`more than ${MAX_OCSP_ITEMS} responses`);
  const out: {
    -readonly [K in keyof OcspBasicResponse]: OcspBasicResponse[K];
  } = {
    tbs: new Uint8Array(tbsBlock.valueBeforeDecodeView),
    signatureAlgorithm: readAlgorithm(algBlock, malformed),
    signature: sigBlock.valueBlock.valueHexView,
    producedAt,
    responses: list.map(readSingle),
    certs: [],
    unknownCritical: [],
  };
  const inner = itemsOf(responder)[0];
  if (responder.idBlock.tagNumber === 1 && inner) out.responderName = readName(inner, malformed);
  else if (responder.idBlock.tagNumber === 2 && inner instanceof asn1js.OctetString) {
    out.responderKeyHash = hex(inner.valueBlock.valueHexView);
  } else throw malformed('responder ID');
  const extsBlock = items[i];
  const unknown: string[] = [];
  if (extsBlock?.idBlock.tagClass === 3 && extsBlock.idBlock.tagNumber === 1) {
    for (const ext of readExtensionList(itemsOf(extsBlock)[0] ?? extsBlock, malformed)) {
      if (ext.oid === NONCE_OID) out.nonce = hex(ext.value);
      else if (ext.critical) unknown.push(ext.oid);
    }
  }
  out.unknownCritical = unknown;
  if (certsBlock) {
    const certs = itemsOf(itemsOf(certsBlock)[0]);
    if (certs.length > MAX_OCSP_ITEMS) throw malformed(`more than ${MAX_OCSP_ITEMS} certificates`);
    out.certs = certs.map((c) => new Uint8Array(c.valueBeforeDecodeView));
  }
  return out;
}

function readSingle(block: asn1js.AsnType): OcspSingleResponse {
  const [idBlock, statusBlock, thisUpdate, ...rest] = itemsOf(block);
  const [alg, nameHash, keyHashBlock, serial] = itemsOf(idBlock);
  if (!alg || !(nameHash instanceof asn1js.OctetString)) throw malformed('CertID');
  if (!(keyHashBlock instanceof asn1js.OctetString) || !statusBlock) throw malformed('CertID');
  const certId: CertId = {
    hashAlgorithm: readAlgorithm(alg, malformed).oid,
    issuerNameHash: hex(nameHash.valueBlock.valueHexView),
    issuerKeyHash: hex(keyHashBlock.valueBlock.valueHexView),
    serial: integerHex(serial, malformed, 'CertID serial number'),
  };
  const tag = statusBlock.idBlock.tagNumber;
  if (statusBlock.idBlock.tagClass !== 3 || tag > 2) throw malformed('certificate status');
  const status = (['good', 'revoked', 'unknown'] as const)[tag] ?? 'unknown';
  const single: { -readonly [K in keyof OcspSingleResponse]: OcspSingleResponse[K] } = {
    certId,
    status,
    thisUpdate: readTime(thisUpdate, malformed),
    unknownCritical: [],
  };
  if (status === 'revoked') single.revokedAt = readTime(itemsOf(statusBlock)[0], malformed);
  for (const field of rest) {
    if (field.idBlock.tagClass === 3 && field.idBlock.tagNumber === 0) {
      single.nextUpdate = readTime(itemsOf(field)[0], malformed);
    } else if (field.idBlock.tagClass === 3 && field.idBlock.tagNumber === 1) {
      single.unknownCritical = readExtensionList(itemsOf(field)[0] ?? field, malformed)
        .filter((e) => e.critical)
        .map((e) => e.oid);
    } else throw malformed('SingleResponse');
  }
  return single;
}
