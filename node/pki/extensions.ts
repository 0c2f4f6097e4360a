/**
 * Reads from a DER certificate every field and extension that RFC 5280 path validation
 * and the RFC 8550 S/MIME profile look at, strictly: an extension the validator relies on
 * that does not decode makes the whole certificate malformed, instead of silently reading
 * as absent (which, for name constraints, would widen what a CA may issue).
 *
 * The DER is read by der-fields.ts, which checks it strictly and copies nothing; pkijs's
 * Certificate class is not used because it reads a malformed extension as absent and costs
 * several times more per certificate, which a whole-store check feels.
 */
import { createHash } from 'node:crypto';
import { CertsyncError } from '../../protocol/errors.ts';
import type { AlgorithmId } from './signature.ts';
import {
  bitStringBits,
  bitStringOf,
  booleanOf,
  contentOf,
  decodeStrict,
  expect,
  hex,
  itemsOf,
  oidOf,
  rawOf,
  readAlgorithm,
  readExtensionList,
  readGeneralNames,
  readName,
  readTime,
  smallInt,
  TAG,
  type Der,
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
  const [tbsNode, sigAlgNode, sigNode, extra] = itemsOf(
    expect(outer, TAG.sequence, malformed, 'certificate'),
  );
  if (extra) throw malformed('certificate structure');
  const tbsItems = itemsOf(expect(tbsNode, TAG.sequence, malformed, 'TBSCertificate'));
  let i = 0;
  let version = 1;
  if (tbsItems[0]?.tag === 0xa0) {
    const [v, more] = itemsOf(tbsItems[0]);
    if (more) throw malformed('version');
    version = smallInt(expect(v, TAG.integer, malformed, 'version'), malformed, 'version') + 1;
    i = 1;
  }
  const serial = contentOf(expect(tbsItems[i++], TAG.integer, malformed, 'serial number'));
  if (serial.length === 0) throw malformed('serial number');
  const inner = readAlgorithm(tbsItems[i++], malformed);
  const issuer = readName(tbsItems[i++], malformed);
  const [nb, na, validityExtra] = itemsOf(
    expect(tbsItems[i++], TAG.sequence, malformed, 'validity'),
  );
  if (validityExtra) throw malformed('validity');
  const subject = readName(tbsItems[i++], malformed);
  const spkiNode = expect(tbsItems[i++], TAG.sequence, malformed, 'subject public key info');
  const [spkiAlg, spkiBits, spkiExtra] = itemsOf(spkiNode);
  if (!spkiAlg || spkiExtra) throw malformed('subject public key info');
  const publicKey = bitStringOf(spkiBits, malformed, 'subject public key');
  // Optional trailing fields, in order: issuerUniqueID [1], subjectUniqueID [2], extensions [3].
  let hasUniqueIds = false;
  let extensions: RawExtension[] = [];
  let last = 0;
  for (const field of tbsItems.slice(i)) {
    const n = field.tag & 0x1f;
    if ((field.tag & 0xc0) !== 0x80 || n <= last || n > 3) throw malformed('TBSCertificate fields');
    last = n;
    if (n === 3) {
      const [list, more] = itemsOf(field);
      if (more || field.tag !== 0xa3) throw malformed('extensions');
      extensions = readExtensionList(list, malformed);
    } else hasUniqueIds = true;
  }
  const signatureAlgorithm = readAlgorithm(sigAlgNode, malformed);
  const signature = bitStringOf(sigNode, malformed, 'signature');
  if (signature.unused !== 0) throw malformed('signature');
  const facts: Mutable<CertificateFacts> = {
    der,
    fingerprint: createHash('sha256').update(der).digest('hex'),
    version,
    serial: hex(serial),
    serialNegative: ((serial[0] as number) & 0x80) !== 0,
    serialZero: serial.every((b) => b === 0),
    serialOctets: serial.length,
    tbs: rawOf(tbsNode as Der),
    signatureAlgorithm,
    algorithmsAgree:
      inner.oid === signatureAlgorithm.oid &&
      hex(inner.params ?? new Uint8Array()) === hex(signatureAlgorithm.params ?? new Uint8Array()),
    signature: signature.bytes,
    issuer,
    subject,
    notBefore: readTime(nb, malformed),
    notAfter: readTime(na, malformed),
    spki: rawOf(spkiNode),
    publicKeyBits: publicKey.bytes,
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
    if (!UNDERSTOOD.has(oid)) continue;
    const node = decodeStrict(ext.value, `extension ${oid}`, malformed);
    switch (oid) {
      case OID.basicConstraints: {
        const items = itemsOf(expect(node, TAG.sequence, malformed, 'basic constraints'));
        let ca = false;
        let pathLen: number | undefined;
        for (const item of items) {
          if (item.tag === TAG.boolean && pathLen === undefined) {
            ca = booleanOf(item, malformed, 'basic constraints');
          } else if (item.tag === TAG.integer && pathLen === undefined) {
            pathLen = smallInt(item, malformed, 'basic constraints path length');
          } else throw malformed('basic constraints');
        }
        f.basicConstraints = pathLen === undefined ? { ca } : { ca, pathLen };
        break;
      }
      case OID.keyUsage: {
        const bits = bitStringBits(bitStringOf(node, malformed, 'key usage'));
        f.keyUsage = new Set(KEY_USAGE_BITS.filter((_, n) => bits[n]));
        break;
      }
      case OID.extKeyUsage:
        f.extKeyUsage = itemsOf(expect(node, TAG.sequence, malformed, 'extended key usage')).map(
          (b) => oidOf(b, malformed, 'extended key usage'),
        );
        if (f.extKeyUsage.length === 0) throw malformed('empty extended key usage');
        break;
      case OID.subjectAltName:
        f.subjectAltName = readGeneralNames(
          itemsOf(expect(node, TAG.sequence, malformed, 'subject alternative name')),
          malformed,
        );
        break;
      case OID.nameConstraints:
        f.nameConstraints = readNameConstraints(node);
        break;
      case OID.authorityKeyId:
        for (const item of itemsOf(expect(node, TAG.sequence, malformed, 'authority key id'))) {
          if (item.tag === 0x80) f.authorityKeyId = hex(contentOf(item));
        }
        break;
      case OID.subjectKeyId:
        f.subjectKeyId = hex(contentOf(expect(node, TAG.octetString, malformed, 'subject key id')));
        break;
      case OID.crlDistributionPoints:
        f.crlDistributionPoints = readDistributionPointUris(node);
        break;
      case OID.authorityInfoAccess:
        f.ocspUrls = readOcspUrls(node);
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
function readNameConstraints(node: Der): NameConstraints {
  const out: { permitted?: GeneralNames; excluded?: GeneralNames } = {};
  for (const part of itemsOf(expect(node, TAG.sequence, malformed, 'name constraints'))) {
    const bases = itemsOf(part).map((subtree) => {
      const [base, ...rest] = itemsOf(expect(subtree, TAG.sequence, malformed, 'name constraints'));
      if (!base || rest.length > 0) throw malformed('name constraints with minimum or maximum');
      return base;
    });
    const names = readGeneralNames(bases, malformed);
    if (part.tag === 0xa0 && !out.permitted) out.permitted = names;
    else if (part.tag === 0xa1 && !out.excluded) out.excluded = names;
    else throw malformed('name constraints');
  }
  return out;
}

/** The URIs of every full-name distribution point (RFC 5280 4.2.1.13). */
export function readDistributionPointUris(node: Der): string[] {
  const uris: string[] = [];
  for (const dp of itemsOf(expect(node, TAG.sequence, malformed, 'distribution points'))) {
    for (const field of itemsOf(expect(dp, TAG.sequence, malformed, 'distribution point'))) {
      if (field.tag !== 0xa0) continue;
      for (const name of itemsOf(field)) {
        if (name.tag === 0xa0) uris.push(...readGeneralNames(itemsOf(name), malformed).uri);
      }
    }
  }
  return uris;
}

function readOcspUrls(node: Der): string[] {
  const urls: string[] = [];
  for (const desc of itemsOf(expect(node, TAG.sequence, malformed, 'information access'))) {
    const [method, location, more] = itemsOf(expect(desc, TAG.sequence, malformed, 'access'));
    if (!location || more) throw malformed('authority information access');
    if (oidOf(method, malformed, 'access method') !== '1.3.6.1.5.5.7.48.1') continue;
    urls.push(...readGeneralNames([location], malformed).uri);
  }
  return urls;
}
