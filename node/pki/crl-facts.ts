/**
 * Reads from a DER CRL (RFC 5280 5) what revocation checking needs: the signed bytes, the
 * issuer, the update times, the revoked serials, and the extensions that decide whether the
 * CRL covers a given certificate (issuing distribution point, delta indicator, unknown
 * critical extensions). A CRL that does not decode is refused whole, with the field named.
 */
import { CertsyncError } from '../../protocol/errors.ts';
import {
  bitStringOf,
  contentOf,
  decodeStrict,
  expect,
  hex,
  implicitTrue,
  header,
  integerHex,
  itemsOf,
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
} from './der-fields.ts';
import type { AlgorithmId } from './signature.ts';

/** One revoked certificate. */
export interface RevokedEntry {
  readonly date: Date;
  /** RFC 5280 5.3.1 reason name, when the entry gives one. */
  readonly reason?: string;
}

/** The issuing distribution point (RFC 5280 5.2.5): which certificates the CRL covers. */
export interface CrlScope {
  readonly uris: readonly string[];
  readonly onlyUserCerts: boolean;
  readonly onlyCaCerts: boolean;
  readonly onlySomeReasons: boolean;
  readonly indirect: boolean;
  readonly onlyAttributeCerts: boolean;
}

/** The facts about one CRL that revocation checking reads. */
export interface CrlFacts {
  readonly der: Uint8Array;
  readonly tbs: Uint8Array;
  readonly signatureAlgorithm: AlgorithmId;
  readonly algorithmsAgree: boolean;
  readonly signature: Uint8Array;
  readonly issuer: DistinguishedName;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  /** Revoked serials (INTEGER content bytes as hex) and their entries. */
  readonly revoked: ReadonlyMap<string, RevokedEntry>;
  readonly authorityKeyId?: string;
  /** A delta CRL (RFC 5280 5.2.4); certsync uses only complete CRLs. */
  readonly isDelta: boolean;
  readonly scope?: CrlScope;
  /** Critical CRL or entry extensions certsync does not understand (the CRL is then unusable). */
  readonly unknownCritical: readonly string[];
  readonly duplicateExtensions: readonly string[];
}

/** At most this many entries are read from one CRL; a longer one is refused as hostile. */
export const MAX_CRL_ENTRIES = 1_000_000;

const REASONS = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  '',
  'removeFromCRL',
  'privilegeWithdrawn',
  'aACompromise',
];
const CRL_EXTS = new Set(['2.5.29.35', '2.5.29.20', '2.5.29.28', '2.5.29.27', '2.5.29.18']);
const ENTRY_EXTS = new Set(['2.5.29.21', '2.5.29.24']);

function malformed(what: string, cause?: unknown): CertsyncError {
  return new CertsyncError('bad-crl', `CRL is malformed: ${what}`, { cause });
}

/**
 * Reads a DER CRL.
 * @throws CertsyncError `bad-crl` naming the field that does not decode, or when the CRL
 *   holds more than {@link MAX_CRL_ENTRIES} entries
 */
export function readCrl(der: Uint8Array): CrlFacts {
  const outer = decodeStrict(der, 'not a DER CertificateList', malformed);
  const [tbsNode, algNode, sigNode, extra] = itemsOf(expect(outer, TAG.sequence, malformed, 'CRL'));
  if (extra) throw malformed('CertificateList structure');
  const items = itemsOf(expect(tbsNode, TAG.sequence, malformed, 'TBSCertList'));
  let i = items[0]?.tag === TAG.integer ? 1 : 0;
  const inner = readAlgorithm(items[i++], malformed);
  const issuer = readName(items[i++], malformed);
  const thisUpdate = readTime(items[i++], malformed);
  let nextUpdate: Date | undefined;
  if (items[i]?.tag === TAG.utcTime || items[i]?.tag === TAG.generalizedTime) {
    nextUpdate = readTime(items[i++], malformed);
  }
  const revoked = new Map<string, RevokedEntry>();
  const unknownCritical = new Set<string>();
  if (items[i]?.tag === TAG.sequence) {
    // Walked header by header rather than through itemsOf: a CRL at the size limit holds
    // half a million entries, and per-entry arrays dominated the time to read it.
    const list = items[i++] as Der;
    let count = 0;
    for (let at = list.body; at < list.end;) {
      const entry = header(list.buf, at, list.end);
      if (!entry || entry.tag !== TAG.sequence) throw malformed('revoked certificate entry');
      if (++count > MAX_CRL_ENTRIES) throw malformed(`more than ${MAX_CRL_ENTRIES} entries`);
      at = entry.end;
      const serial = header(list.buf, entry.body, entry.end);
      const date = serial && header(list.buf, serial.end, entry.end);
      if (!serial || !date) throw malformed('revoked certificate entry');
      let reason: string | undefined;
      if (date.end < entry.end) {
        const exts = header(list.buf, date.end, entry.end);
        if (!exts || exts.end !== entry.end) throw malformed('revoked certificate entry');
        for (const ext of readExtensionList(exts, malformed)) {
          if (ext.critical && !ENTRY_EXTS.has(ext.oid)) unknownCritical.add(ext.oid);
          if (ext.oid === '2.5.29.21') {
            const code = decodeStrict(ext.value, 'reason code', malformed);
            if (code.tag !== TAG.enumerated) throw malformed('reason code');
            reason = REASONS[smallInt(code, malformed, 'reason code')] || 'unspecified';
          }
        }
      }
      const when = readTime(date, malformed);
      const key = integerHex(serial, malformed, 'revoked serial number');
      revoked.set(key, reason ? { date: when, reason } : { date: when });
    }
  }
  const signatureAlgorithm = readAlgorithm(algNode, malformed);
  const signature = bitStringOf(sigNode, malformed, 'signature');
  const facts: {
    -readonly [K in keyof CrlFacts]: CrlFacts[K];
  } = {
    der,
    tbs: rawOf(tbsNode as Der),
    signatureAlgorithm,
    algorithmsAgree:
      inner.oid === signatureAlgorithm.oid &&
      hex(inner.params ?? new Uint8Array()) === hex(signatureAlgorithm.params ?? new Uint8Array()),
    signature: signature.bytes,
    issuer,
    thisUpdate,
    revoked,
    isDelta: false,
    unknownCritical: [],
    duplicateExtensions: [],
  };
  if (nextUpdate) facts.nextUpdate = nextUpdate;

  const extsNode = items[i++];
  if (items[i]) throw malformed('TBSCertList has unexpected fields');
  const seen = new Set<string>();
  const dups = new Set<string>();
  if (extsNode) {
    const [list, more] = itemsOf(expect(extsNode, 0xa0, malformed, 'TBSCertList fields'));
    if (more) throw malformed('CRL extensions');
    for (const ext of readExtensionList(list, malformed)) {
      if (seen.has(ext.oid)) dups.add(ext.oid);
      seen.add(ext.oid);
      if (ext.critical && !CRL_EXTS.has(ext.oid)) unknownCritical.add(ext.oid);
      const node = decodeStrict(ext.value, `extension ${ext.oid}`, malformed);
      if (ext.oid === '2.5.29.27') facts.isDelta = true;
      if (ext.oid === '2.5.29.28') facts.scope = readScope(node);
      if (ext.oid === '2.5.29.35') {
        for (const item of itemsOf(expect(node, TAG.sequence, malformed, 'authority key id'))) {
          if (item.tag === 0x80) facts.authorityKeyId = hex(contentOf(item));
        }
      }
    }
  }
  facts.unknownCritical = [...unknownCritical];
  facts.duplicateExtensions = [...dups];
  return facts;
}

function readScope(node: Der): CrlScope {
  const scope = {
    uris: [] as string[],
    onlyUserCerts: false,
    onlyCaCerts: false,
    onlySomeReasons: false,
    indirect: false,
    onlyAttributeCerts: false,
  };
  for (const field of itemsOf(expect(node, TAG.sequence, malformed, 'distribution point'))) {
    if ((field.tag & 0xc0) !== 0x80) throw malformed('issuing distribution point');
    switch (field.tag & 0x1f) {
      case 0:
        for (const name of itemsOf(field)) {
          if (name.tag === 0xa0) scope.uris.push(...readGeneralNames(itemsOf(name), malformed).uri);
        }
        break;
      case 1:
        scope.onlyUserCerts = implicitTrue(field);
        break;
      case 2:
        scope.onlyCaCerts = implicitTrue(field);
        break;
      case 3:
        scope.onlySomeReasons = true;
        break;
      case 4:
        scope.indirect = implicitTrue(field);
        break;
      case 5:
        scope.onlyAttributeCerts = implicitTrue(field);
        break;
      default:
        throw malformed('issuing distribution point');
    }
  }
  return scope;
}
