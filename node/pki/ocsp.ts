/**
 * OCSP (RFC 6960) on the wire: building a request for one certificate and reading a
 * response into plain facts. Whether a response may be believed (signature, signer,
 * freshness, CertID, nonce) is decided by the validator, not here.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import { CertsyncError } from '../../protocol/errors.ts';
import {
  bitStringOf,
  contentOf,
  decodeStrict,
  expect,
  hex,
  integerHex,
  itemsOf,
  oidOf,
  rawOf,
  readAlgorithm,
  readExtensionList,
  readName,
  readTime,
  smallInt,
  TAG,
  type Der,
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
  const [statusNode, bytesNode, extra] = itemsOf(
    expect(outer, TAG.sequence, malformed, 'OCSPResponse'),
  );
  if (extra || statusNode?.tag !== TAG.enumerated) throw malformed('response status');
  const status = STATUSES[smallInt(statusNode, malformed, 'response status')] || 'unknown status';
  if (status !== 'successful') return { status };
  const [responseBytes] = itemsOf(expect(bytesNode, 0xa0, malformed, 'response bytes'));
  const [typeNode, octets] = itemsOf(
    expect(responseBytes, TAG.sequence, malformed, 'response bytes'),
  );
  if (oidOf(typeNode, malformed, 'response type') !== BASIC_OID) {
    throw malformed('response type is not id-pkix-ocsp-basic');
  }
  const inner = contentOf(expect(octets, TAG.octetString, malformed, 'response bytes'));
  return { status, basic: readBasic(inner) };
}

function readBasic(bytes: Uint8Array): OcspBasicResponse {
  const basic = decodeStrict(bytes, 'BasicOCSPResponse', malformed);
  const [tbsNode, algNode, sigNode, certsNode, extra] = itemsOf(
    expect(basic, TAG.sequence, malformed, 'BasicOCSPResponse'),
  );
  if (extra) throw malformed('BasicOCSPResponse structure');
  const items = itemsOf(expect(tbsNode, TAG.sequence, malformed, 'ResponseData'));
  let i = items[0]?.tag === 0xa0 ? 1 : 0;
  const responder = items[i++];
  const producedAt = readTime(items[i++], malformed);
  const list = itemsOf(expect(items[i++], TAG.sequence, malformed, 'responses'));
  if (list.length > MAX_OCSP_ITEMS) throw malformed(`more than ${MAX_OCSP_ITEMS} responses`);
  const out: {
    -readonly [K in keyof OcspBasicResponse]: OcspBasicResponse[K];
  } = {
    tbs: rawOf(tbsNode as Der),
    signatureAlgorithm: readAlgorithm(algNode, malformed),
    signature: bitStringOf(sigNode, malformed, 'signature').bytes,
    producedAt,
    responses: list.map(readSingle),
    certs: [],
    unknownCritical: [],
  };
  const [id, idExtra] = itemsOf(responder);
  if (idExtra || !id) throw malformed('responder ID');
  if (responder?.tag === 0xa1) out.responderName = readName(id, malformed);
  else if (responder?.tag === 0xa2 && id.tag === TAG.octetString) {
    out.responderKeyHash = hex(contentOf(id));
  } else throw malformed('responder ID');
  const extsNode = items[i++];
  if (items[i]) throw malformed('ResponseData has unexpected fields');
  const unknown: string[] = [];
  if (extsNode) {
    const [exts] = itemsOf(expect(extsNode, 0xa1, malformed, 'response extensions'));
    for (const ext of readExtensionList(exts, malformed)) {
      if (ext.oid === NONCE_OID) out.nonce = hex(ext.value);
      else if (ext.critical) unknown.push(ext.oid);
    }
  }
  out.unknownCritical = unknown;
  if (certsNode) {
    const [seq] = itemsOf(expect(certsNode, 0xa0, malformed, 'certificates'));
    const certs = itemsOf(expect(seq, TAG.sequence, malformed, 'certificates'));
    if (certs.length > MAX_OCSP_ITEMS) throw malformed(`more than ${MAX_OCSP_ITEMS} certificates`);
    out.certs = certs.map(rawOf);
  }
  return out;
}

function readSingle(node: Der): OcspSingleResponse {
  const [idNode, statusNode, thisUpdate, ...rest] = itemsOf(
    expect(node, TAG.sequence, malformed, 'SingleResponse'),
  );
  const [alg, nameHash, keyHashNode, serial, extra] = itemsOf(
    expect(idNode, TAG.sequence, malformed, 'CertID'),
  );
  if (extra || !statusNode) throw malformed('CertID');
  const certId: CertId = {
    hashAlgorithm: readAlgorithm(alg, malformed).oid,
    issuerNameHash: hex(contentOf(expect(nameHash, TAG.octetString, malformed, 'CertID'))),
    issuerKeyHash: hex(contentOf(expect(keyHashNode, TAG.octetString, malformed, 'CertID'))),
    serial: integerHex(serial, malformed, 'CertID serial number'),
  };
  // CertStatus: good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2] NULL.
  const status =
    statusNode.tag === 0x80
      ? 'good'
      : statusNode.tag === 0xa1
        ? 'revoked'
        : statusNode.tag === 0x82
          ? 'unknown'
          : undefined;
  if (!status) throw malformed('certificate status');
  const single: { -readonly [K in keyof OcspSingleResponse]: OcspSingleResponse[K] } = {
    certId,
    status,
    thisUpdate: readTime(thisUpdate, malformed),
    unknownCritical: [],
  };
  if (status === 'revoked') single.revokedAt = readTime(itemsOf(statusNode)[0], malformed);
  for (const field of rest) {
    if (field.tag === 0xa0 && !single.nextUpdate) {
      single.nextUpdate = readTime(itemsOf(field)[0], malformed);
    } else if (field.tag === 0xa1) {
      single.unknownCritical = readExtensionList(itemsOf(field)[0], malformed)
        .filter((e) => e.critical)
        .map((e) => e.oid);
    } else throw malformed('SingleResponse');
  }
  return single;
}
