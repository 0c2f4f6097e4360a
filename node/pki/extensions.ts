/**
 * Reads from a DER certificate every field and extension that RFC 5280 path validation
 * and the RFC 8550 S/MIME profile look at, strictly: an extension the validator relies on
 * that does not decode makes the whole certificate malformed, instead of silently reading
 * as absent (which, for name constraints, would widen what a CA may issue).
 *
 * The structure is read with asn1js (pkijs's own ASN.1 layer) after a strict DER shape check;
 * pkijs's Certificate class is not used here because it parses every certificate a second
 * time and reads a malformed extension as absent. No asn1js type leaves node/pki/.
 */
import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import { CertsyncError } from '../../protocol/errors.ts';
import type { AlgorithmId } from './signature.ts';
import {
  bitStringBits,
  decodeStrict,
  hex,
  itemsOf,
  oidOf,
  readAlgorithm,
  readExtensionList,
  readGeneralNames,
  readName,
  readTime,
  type DistinguishedName,
  type GeneralNames,
  type RawExtension,
} from './der-fields.ts';

export type { DistinguishedName, GeneralNames } from './der-fields.ts';

/** RFC 5280 4.2.1.3 key usage bit names, in bit order. */
export const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;
/** One key usage bit. */
export type KeyUsage = (typeof KEY_USAGE_BITS)[number];

/** Extension OIDs the validator processes or knowingly accepts (RFC 5280 4.2). */
export const OID = {
  subjectKeyId: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  issuerAltName: '2.5.29.18',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  crlDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  authorityKeyId: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  freshestCrl: '2.5.29.46',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  subjectInfoAccess: '1.3.6.1.5.5.7.1.11',
  ocspNoCheck: '1.3.6.1.5.5.7.48.1.5',
  smimeCapabilities: '1.2.840.113549.1.9.15',
  ekuEmailProtection: '1.3.6.1.5.5.7.3.4',
  ekuOcspSigning: '1.3.6.1.5.5.7.3.9',
  ekuAny: '2.5.29.37.0',
} as const;

/**
 * Extensions whose meaning certsync honours, so that a critical one is not "unknown".
 * Certificate policies are accepted without policy processing (the validator asks for no
 * particular policy); policy constraints, mappings and inhibitAnyPolicy are not, so a
 * certificate marking them critical is refused (RFC 5280 4.2).
 */
const UNDERSTOOD = new Set<string>([
  OID.subjectKeyId,
  OID.keyUsage,
  OID.subjectAltName,
  OID.issuerAltName,
  OID.basicConstraints,
  OID.nameConstraints,
  OID.crlDistributionPoints,
  OID.certificatePolicies,
  OID.authorityKeyId,
  OID.extKeyUsage,
  OID.freshestCrl,
  OID.authorityInfoAccess,
  OID.subjectInfoAccess,
  OID.ocspNoCheck,
  OID.smimeCapabilities,
]);

/** Name constraints (RFC 5280 4.2.1.10): permitted and excluded subtrees by name form. */
export interface NameConstraints {
  readonly permitted?: GeneralNames;
  readonly excluded?: GeneralNames;
}

/** The facts about one certificate that validation reads. */
export interface CertificateFacts {
  readonly der: Uint8Array;
  /** SHA-256 of the DER, lower-case hex. */
  readonly fingerprint: string;
  /** 1, 2 or 3 (the encoded value plus one). */
  readonly version: number;
  /** The serial's DER content bytes as hex; equal integers give equal strings. */
  readonly serial: string;
  readonly serialNegative: boolean;
  readonly serialZero: boolean;
  readonly serialOctets: number;
  readonly tbs: Uint8Array;
  readonly signatureAlgorithm: AlgorithmId;
  /** True when the signature field inside TBSCertificate equals the outer one (4.1.1.2). */
  readonly algorithmsAgree: boolean;
  readonly signature: Uint8Array;
  readonly issuer: DistinguishedName;
  readonly subject: DistinguishedName;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly spki: Uint8Array;
  /** The subjectPublicKey BIT STRING's bytes (what OCSP's issuerKeyHash hashes). */
  readonly publicKeyBits: Uint8Array;
  readonly hasUniqueIds: boolean;
  readonly extensionOids: readonly string[];
  /** OIDs that appear more than once (RFC 5280 4.2: at most one instance each). */
  readonly duplicateExtensions: readonly string[];
  /** Critical extensions certsync does not understand. */
  readonly unknownCritical: readonly string[];
  readonly basicConstraints?: { readonly ca: boolean; readonly pathLen?: number };
  readonly keyUsage?: ReadonlySet<KeyUsage>;
  readonly extKeyUsage?: readonly string[];
  readonly subjectAltName?: GeneralNames;
  readonly nameConstraints?: NameConstraints;
  readonly authorityKeyId?: string;
  readonly subjectKeyId?: string;
  readonly crlDistributionPoints: readonly string[];
  readonly ocspUrls: readonly string[];
  /** Subject and issuer names are equal (RFC 5280 6.1: "self-issued"). */
  readonly selfIssued: boolean;
}

function malformed(what: string, cause?: unknown): CertsyncError {
  return new CertsyncError('bad-certificate', `certificate is malformed: ${what}`, { cause });
}

/**
 * Reads a DER certificate.
 * @throws CertsyncError `bad-certificate` naming the field that does not decode
 */
export function readCertificate(der: Uint8Array): CertificateFacts {
  const outer = decodeStrict(der, 'not a DER X.509 certificate', malformed);
  const [tbsBlock, sigAlgBlock, sigBlock] = itemsOf(outer);
  if (
    !(outer instanceof asn1js.Sequence) ||
    !(tbsBlock instanceof asn1js.Sequence) ||
    !sigAlgBlock ||
    !(sigBlock instanceof asn1js.BitString)
  ) {
    throw malformed('certificate structure');
  }
  const tbsItems = itemsOf(tbsBlock);
  const explicitVersion = tbsItems[0]?.idBlock.tagClass === 3 ? itemsOf(tbsItems[0])[0] : undefined;
  if (tbsItems[0]?.idBlock.tagClass === 3 && !(explicitVersion instanceof asn1js.Integer)) {
    throw malformed('version');
  }
  const versionBlock = explicitVersion as asn1js.Integer | undefined;
  let i = versionBlock ? 1 : 0;
  const serialBlock = tbsItems[i++];
  const innerAlg = tbsItems[i++];
  const issuerBlock = tbsItems[i++];
  const validity = tbsItems[i++];
  const subjectBlock = tbsItems[i++];
  const spkiBlock = tbsItems[i++];
  if (!(serialBlock instanceof asn1js.Integer) || !innerAlg || !issuerBlock) {
    throw malformed('TBSCertificate structure');
  }
  if (
    !(validity instanceof asn1js.Sequence) ||
    !subjectBlock ||
    !(spkiBlock instanceof asn1js.Sequence)
  ) {
    throw malformed('TBSCertificate structure');
  }
  const [nb, na] = itemsOf(validity);
  // Optional trailing fields: issuerUniqueID [1], subjectUniqueID [2], extensions [3].
  let hasUniqueIds = false;
  let extensions: RawExtension[] = [];
  for (const field of tbsItems.slice(i)) {
    const tag = field.idBlock.tagNumber;
    if (field.idBlock.tagClass !== 3 || tag < 1 || tag > 3)
      throw malformed('TBSCertificate fields');
    if (tag === 3) extensions = readExtensionList(itemsOf(field)[0] ?? field, malformed);
    else hasUniqueIds = true;
  }
  const serialBytes = serialBlock.valueBlock.valueHexView;
  const spkiBits = itemsOf(spkiBlock)[1];
  if (!(spkiBits instanceof asn1js.BitString)) throw malformed('subject public key');

  const issuer = readName(issuerBlock, malformed);
  const subject = readName(subjectBlock, malformed);
  const signatureAlgorithm = readAlgorithm(sigAlgBlock, malformed);
  const inner = readAlgorithm(innerAlg, malformed);
  const facts: Mutable<CertificateFacts> = {
    der,
    fingerprint: createHash('sha256').update(der).digest('hex'),
    version: (versionBlock ? versionBlock.valueBlock.valueDec : 0) + 1,
    serial: hex(serialBytes),
    serialNegative: serialBytes.length > 0 && ((serialBytes[0] as number) & 0x80) !== 0,
    serialZero: serialBytes.every((b) => b === 0),
    serialOctets: serialBytes.length,
    tbs: new Uint8Array(tbsBlock.valueBeforeDecodeView),
    signatureAlgorithm,
    algorithmsAgree:
      inner.oid === signatureAlgorithm.oid &&
      hex(inner.params ?? new Uint8Array()) === hex(signatureAlgorithm.params ?? new Uint8Array()),
    signature: sigBlock.valueBlock.valueHexView,
    issuer,
    subject,
    notBefore: readTime(nb, malformed),
    notAfter: readTime(na, malformed),
    spki: new Uint8Array(spkiBlock.valueBeforeDecodeView),
    publicKeyBits: spkiBits.valueBlock.valueHexView,
    hasUniqueIds,
    extensionOids: [],
    duplicateExtensions: [],
    unknownCritical: [],
    crlDistributionPoints: [],
    ocspUrls: [],
    selfIssued: issuer.key === subject.key,
  };
  readExtensions(extensions, facts);
  return facts;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function readExtensions(exts: RawExtension[], f: Mutable<CertificateFacts>): void {
  const seen = new Set<string>();
  const dups = new Set<string>();
  const unknown: string[] = [];
  for (const ext of exts) {
    const oid = ext.oid;
    if (seen.has(oid)) dups.add(oid);
    seen.add(oid);
    if (ext.critical && !UNDERSTOOD.has(oid)) unknown.push(oid);
    const value = ext.value;
    const what = `extension ${oid}`;
    if (!UNDERSTOOD.has(oid)) continue;
    const block = decodeStrict(value, what, malformed);
    switch (oid) {
      case OID.basicConstraints: {
        let ca = false;
        let pathLen: number | undefined;
        for (const item of itemsOf(block)) {
          if (item instanceof asn1js.Boolean) ca = item.valueBlock.value;
          else if (item instanceof asn1js.Integer) pathLen = item.valueBlock.valueDec;
          else throw malformed('basic constraints');
        }
        if (pathLen !== undefined && (pathLen < 0 || !Number.isSafeInteger(pathLen))) {
          throw malformed('basic constraints path length');
        }
        f.basicConstraints = pathLen === undefined ? { ca } : { ca, pathLen };
        break;
      }
      case OID.keyUsage: {
        if (!(block instanceof asn1js.BitString)) throw malformed('key usage');
        const bits = bitStringBits(block);
        f.keyUsage = new Set(KEY_USAGE_BITS.filter((_, n) => bits[n]));
        break;
      }
      case OID.extKeyUsage:
        f.extKeyUsage = itemsOf(block).map((b) => oidOf(b, malformed, 'extended key usage'));
        if (f.extKeyUsage.length === 0) throw malformed('empty extended key usage');
        break;
      case OID.subjectAltName:
        f.subjectAltName = readGeneralNames(itemsOf(block), malformed);
        break;
      case OID.nameConstraints:
        f.nameConstraints = readNameConstraints(block);
        break;
      case OID.authorityKeyId:
        for (const item of itemsOf(block)) {
          if (item.idBlock.tagClass === 3 && item.idBlock.tagNumber === 0) {
            f.authorityKeyId = hex((item as asn1js.Primitive).valueBlock.valueHexView);
          }
        }
        break;
      case OID.subjectKeyId:
        if (!(block instanceof asn1js.OctetString)) throw malformed('subject key identifier');
        f.subjectKeyId = hex(block.valueBlock.valueHexView);
        break;
      case OID.crlDistributionPoints:
        f.crlDistributionPoints = readDistributionPointUris(block);
        break;
      case OID.authorityInfoAccess:
        f.ocspUrls = readOcspUrls(block);
        break;
      default:
        break;
    }
  }
  f.extensionOids = [...seen];
  f.duplicateExtensions = [...dups];
  f.unknownCritical = unknown;
}

/**
 * NameConstraints ::= SEQUENCE { permittedSubtrees [0], excludedSubtrees [1] }. A subtree
 * with a minimum other than 0 or with a maximum is refused as malformed (RFC 5280 4.2.1.10
 * says both MUST be absent).
 */
function readNameConstraints(block: asn1js.AsnType): NameConstraints {
  const out: { permitted?: GeneralNames; excluded?: GeneralNames } = {};
  for (const part of itemsOf(block)) {
    const bases = itemsOf(part).map((subtree) => {
      const [base, ...rest] = itemsOf(subtree);
      if (!base || rest.length > 0) throw malformed('name constraints with minimum or maximum');
      return base;
    });
    const names = readGeneralNames(bases, malformed);
    if (part.idBlock.tagNumber === 0) out.permitted = names;
    else if (part.idBlock.tagNumber === 1) out.excluded = names;
    else throw malformed('name constraints');
  }
  return out;
}

/** The URIs of every full-name distribution point (RFC 5280 4.2.1.13). */
export function readDistributionPointUris(block: asn1js.AsnType): string[] {
  const uris: string[] = [];
  for (const dp of itemsOf(block)) {
    for (const field of itemsOf(dp)) {
      if (field.idBlock.tagNumber !== 0) continue;
      for (const name of itemsOf(field)) {
        if (name.idBlock.tagNumber === 0) {
          uris.push(...readGeneralNames(itemsOf(name), malformed).uri);
        }
      }
    }
  }
  return uris;
}

function readOcspUrls(block: asn1js.AsnType): string[] {
  const urls: string[] = [];
  for (const desc of itemsOf(block)) {
    const [method, location] = itemsOf(desc);
    if (!method || !location) throw malformed('authority information access');
    if (oidOf(method, malformed, 'access method') !== '1.3.6.1.5.5.7.48.1') continue;
    urls.push(...readGeneralNames([location], malformed).uri);
  }
  return urls;
}
