/**
 * Strict readers for the DER fields that certificates, CRLs and OCSP responses share:
 * names, general names, times and algorithm identifiers. Each takes an `invalid` factory
 * so the caller's own error (bad certificate, bad CRL, bad OCSP response) names the item.
 * asn1js types stay inside node/pki/.
 */
import * as asn1js from 'asn1js';
import type { AlgorithmId } from './signature.ts';

/** Builds the caller's error for a field that does not decode. */
export type Invalid = (what: string, cause?: unknown) => Error;

/** A distinguished name: its DER, a comparison key, and a text form for people. */
export interface DistinguishedName {
  readonly der: Uint8Array;
  /**
   * Equal for names that RFC 5280 7.1 says match: attribute values of string types
   * compared after trimming, collapsing inner spaces and folding case; others by DER.
   */
  readonly key: string;
  /** `CN=Alice, O=Example`, in encoded order. */
  readonly text: string;
  /** RDNs in encoded order; each RDN's attributes as (oid, normalised value). */
  readonly rdns: readonly (readonly { readonly oid: string; readonly value: string }[])[];
  /** Values of PKCS #9 emailAddress attributes (legacy e-mail in the subject). */
  readonly emails: readonly string[];
}

/** GeneralNames (RFC 5280 4.2.1.6) sorted by name form. */
export interface GeneralNames {
  readonly rfc822: readonly string[];
  readonly dns: readonly string[];
  readonly uri: readonly string[];
  readonly directory: readonly DistinguishedName[];
  readonly ip: readonly Uint8Array[];
  /** Forms certsync does not interpret (otherName, x400Address, ...), by name. */
  readonly other: readonly string[];
}

const EMAIL_OID = '1.2.840.113549.1.9.1';
const SHORT: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.5': 'serialNumber',
  [EMAIL_OID]: 'emailAddress',
};
const OTHER_FORMS = [
  'otherName',
  '',
  '',
  'x400Address',
  '',
  'ediPartyName',
  '',
  '',
  'registeredID',
];

/** Lower-case hex of bytes. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Nesting deeper than this is refused (no certificate structure comes close). */
const MAX_DEPTH = 32;

/**
 * Walks the TLVs of `bytes[start, end)` and returns false unless they are DER-shaped: definite
 * lengths in minimal form, and every constructed value's children exactly filling it. asn1js
 * alone lets a child run past its parent's end, which would let a certificate whose outer
 * length was altered still read as the original.
 */
function derShaped(bytes: Uint8Array, start: number, end: number, depth: number): boolean {
  let at = start;
  while (at < end) {
    if (depth > MAX_DEPTH) return false;
    const tag = bytes[at++] as number;
    if ((tag & 0x1f) === 0x1f) {
      while (at < end && ((bytes[at] as number) & 0x80) !== 0) at++;
      at++;
    }
    if (at >= end) return false;
    let length = bytes[at++] as number;
    if (length & 0x80) {
      const count = length & 0x7f;
      if (count === 0 || count > 4 || bytes[at] === 0 || at + count > end) return false;
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + (bytes[at++] as number);
      if (length < 0x80) return false;
    }
    if (at + length > end) return false;
    if (tag & 0x20 && !derShaped(bytes, at, at + length, depth + 1)) return false;
    at += length;
  }
  return at === end;
}

/** Decodes exactly one DER value filling all of `bytes`, or throws `invalid(what)`. */
export function decodeStrict(bytes: Uint8Array, what: string, invalid: Invalid): asn1js.AsnType {
  if (bytes.length === 0 || !derShaped(bytes, 0, bytes.length, 0)) throw invalid(what);
  const r = asn1js.fromBER(bytes);
  if (r.offset === -1 || r.offset !== bytes.length || r.result.error) throw invalid(what);
  return r.result;
}

/** The children of a constructed value (empty for a primitive). */
export function itemsOf(block: asn1js.AsnType | undefined): asn1js.AsnType[] {
  const v = (block as asn1js.Sequence | undefined)?.valueBlock.value;
  return Array.isArray(v) ? v : [];
}

/** The dotted OID of an OBJECT IDENTIFIER, or throws `invalid(what)`. */
export function oidOf(block: asn1js.AsnType | undefined, invalid: Invalid, what: string): string {
  if (!(block instanceof asn1js.ObjectIdentifier)) throw invalid(what);
  return block.valueBlock.toString();
}

/** AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }. */
export function readAlgorithm(block: asn1js.AsnType, invalid: Invalid): AlgorithmId {
  if (!(block instanceof asn1js.Sequence) || itemsOf(block).length > 2) {
    throw invalid('algorithm identifier');
  }
  const [oid, params] = itemsOf(block);
  const id = oidOf(oid, invalid, 'algorithm identifier');
  return params ? { oid: id, params: new Uint8Array(params.valueBeforeDecodeView) } : { oid: id };
}

/** The bits of a BIT STRING, most significant first (bit 0 is the first named bit). */
export function bitStringBits(block: asn1js.BitString): boolean[] {
  const bytes = block.valueBlock.valueHexView;
  const count = bytes.length * 8 - block.valueBlock.unusedBits;
  const out: boolean[] = [];
  for (let n = 0; n < count; n++)
    out.push((((bytes[n >> 3] as number) >> (7 - (n & 7))) & 1) === 1);
  return out;
}

/** A UTCTime or GeneralizedTime in whole seconds (RFC 5280 4.1.2.5 forbids fractions). */
export function readTime(block: asn1js.AsnType | undefined, invalid: Invalid): Date {
  if (!(block instanceof asn1js.UTCTime) && !(block instanceof asn1js.GeneralizedTime)) {
    throw invalid('time');
  }
  const d = block.toDate();
  if (Number.isNaN(d.getTime()) || d.getUTCMilliseconds() !== 0) throw invalid('time');
  return d;
}

function stringValue(block: asn1js.AsnType): string | undefined {
  return block instanceof asn1js.BaseStringBlock ? block.getValue() : undefined;
}

function normalise(value: string): string {
  return value.trim().replace(/\s+/g, ' ').toLowerCase();
}

/** Name ::= SEQUENCE OF SET OF AttributeTypeAndValue (RFC 5280 4.1.2.4). */
export function readName(block: asn1js.AsnType, invalid: Invalid): DistinguishedName {
  if (!(block instanceof asn1js.Sequence)) throw invalid('name');
  const rdns: { oid: string; value: string }[][] = [];
  const text: string[] = [];
  const emails: string[] = [];
  for (const set of itemsOf(block)) {
    if (!(set instanceof asn1js.Set) || itemsOf(set).length === 0) throw invalid('name');
    const rdn: { oid: string; value: string }[] = [];
    for (const atv of itemsOf(set)) {
      const [type, value] = itemsOf(atv);
      const oid = oidOf(type, invalid, 'name attribute');
      if (!value) throw invalid('name attribute');
      const s = stringValue(value);
      if (oid === EMAIL_OID && s !== undefined) emails.push(s);
      rdn.push({
        oid,
        value: s === undefined ? `#${hex(value.valueBeforeDecodeView)}` : normalise(s),
      });
      text.push(`${SHORT[oid] ?? oid}=${s ?? `#${hex(value.valueBeforeDecodeView)}`}`);
    }
    rdn.sort((a, b) => (a.oid + a.value < b.oid + b.value ? -1 : 1));
    rdns.push(rdn);
  }
  return {
    der: new Uint8Array(block.valueBeforeDecodeView),
    key: rdns.map((r) => r.map((a) => `${a.oid}=${JSON.stringify(a.value)}`).join('+')).join(','),
    text: text.join(', '),
    rdns,
    emails,
  };
}

function ascii(bytes: Uint8Array, invalid: Invalid, what: string): string {
  for (const b of bytes) if (b > 0x7e || b < 0x20) throw invalid(what);
  return Buffer.from(bytes).toString('latin1');
}

/** Reads a list of GeneralName values (implicitly tagged, RFC 5280 4.2.1.6). */
export function readGeneralNames(blocks: asn1js.AsnType[], invalid: Invalid): GeneralNames {
  const out = {
    rfc822: [] as string[],
    dns: [] as string[],
    uri: [] as string[],
    directory: [] as DistinguishedName[],
    ip: [] as Uint8Array[],
    other: [] as string[],
  };
  for (const b of blocks) {
    if (b.idBlock.tagClass !== 3) throw invalid('general name');
    const tag = b.idBlock.tagNumber;
    const raw = (b as asn1js.Primitive).valueBlock.valueHexView;
    if (tag === 1) out.rfc822.push(ascii(raw, invalid, 'rfc822Name'));
    else if (tag === 2) out.dns.push(ascii(raw, invalid, 'dNSName'));
    else if (tag === 6) out.uri.push(ascii(raw, invalid, 'uniformResourceIdentifier'));
    else if (tag === 7) out.ip.push(new Uint8Array(raw));
    else if (tag === 4) {
      const name = itemsOf(b)[0];
      if (!name) throw invalid('directoryName');
      out.directory.push(readName(name, invalid));
    } else out.other.push(OTHER_FORMS[tag] || `[${tag}]`);
  }
  return out;
}

/** One extension as encoded: OID, criticality, and the DER inside extnValue. */
export interface RawExtension {
  readonly oid: string;
  readonly critical: boolean;
  readonly value: Uint8Array;
}

/** Extensions ::= SEQUENCE OF Extension (RFC 5280 4.1). */
export function readExtensionList(block: asn1js.AsnType, invalid: Invalid): RawExtension[] {
  if (!(block instanceof asn1js.Sequence)) throw invalid('extensions');
  return itemsOf(block).map((ext) => {
    if (!(ext instanceof asn1js.Sequence)) throw invalid('extension');
    const parts = itemsOf(ext);
    const oid = oidOf(parts[0], invalid, 'extension');
    const critical = parts[1] instanceof asn1js.Boolean ? parts[1].valueBlock.value : false;
    const value = parts[parts.length - 1];
    if (!(value instanceof asn1js.OctetString) || parts.length > 3)
      throw invalid(`extension ${oid}`);
    return { oid, critical, value: value.valueBlock.valueHexView };
  });
}

/** The content bytes of an INTEGER as hex, the form serial numbers are compared in. */
export function integerHex(
  block: asn1js.AsnType | undefined,
  invalid: Invalid,
  what: string,
): string {
  if (!(block instanceof asn1js.Integer)) throw invalid(what);
  return hex(block.valueBlock.valueHexView);
}

/** True for the content of an implicitly tagged BOOLEAN primitive that is set. */
export function implicitTrue(block: asn1js.AsnType): boolean {
  const v = (block as asn1js.Primitive).valueBlock.valueHexView;
  return v.length === 1 && v[0] !== 0;
}
