/**
 * A strict DER reader and the field readers that certificates, CRLs and OCSP responses share:
 * names, general names, times and algorithm identifiers.
 *
 * Every value is first checked to be DER-shaped: definite lengths in minimal form, each
 * constructed value exactly filled by its children, one value filling the whole input.
 * (asn1js, which the rest of the pkijs stack uses, lets a child run past its parent's end, so
 * a certificate whose outer length was altered would still read as the original.) Reading
 * then walks offsets into the caller's bytes without copying, which also makes a store check
 * several times faster than building asn1js objects for every certificate. Each reader takes
 * an `invalid` factory so the caller's own error names the item.
 */
import type { AlgorithmId } from './signature.ts';

/** Builds the caller's error for a field that does not decode. */
export type Invalid = (what: string, cause?: unknown) => Error;

/** One TLV inside a buffer. `tag` is the identifier octet (high tag numbers are refused). */
export interface Der {
  readonly tag: number;
  readonly buf: Uint8Array;
  readonly start: number;
  /** Offset of the contents. */
  readonly body: number;
  readonly end: number;
}

/** Universal tags used here. */
export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  enumerated: 0x0a,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

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

/** One extension as encoded: OID, criticality, and the DER inside extnValue. */
export interface RawExtension {
  readonly oid: string;
  readonly critical: boolean;
  readonly value: Uint8Array;
}

/** Nesting deeper than this is refused (no certificate structure comes close). */
const MAX_DEPTH = 32;
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

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** Lower-case hex of bytes (a table walk for the shortest values, which are the most common). */
export function hex(bytes: Uint8Array): string {
  if (bytes.length > 8) {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  }
  let out = '';
  for (const b of bytes) out += HEX[b] as string;
  return out;
}

/** Reads the header at `at`; null when it is not DER or runs past `end`. */
export function header(buf: Uint8Array, at: number, end: number): Der | null {
  if (at + 2 > end) return null;
  const tag = buf[at] as number;
  if ((tag & 0x1f) === 0x1f) return null;
  let length = buf[at + 1] as number;
  let body = at + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || body + count > end || buf[body] === 0) return null;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (buf[body++] as number);
    if (length < 0x80) return null;
  }
  if (body + length > end) return null;
  return { tag, buf, start: at, body, end: body + length };
}

function derShaped(buf: Uint8Array, start: number, end: number, depth: number): boolean {
  if (depth > MAX_DEPTH) return false;
  for (let at = start; at < end;) {
    const h = header(buf, at, end);
    if (!h) return false;
    if (h.tag & 0x20 && !derShaped(buf, h.body, h.end, depth + 1)) return false;
    at = h.end;
  }
  return true;
}

/** Reads exactly one DER value filling all of `bytes`, or throws `invalid(what)`. */
export function decodeStrict(bytes: Uint8Array, what: string, invalid: Invalid): Der {
  const top = header(bytes, 0, bytes.length);
  if (!top || top.end !== bytes.length || !derShaped(bytes, 0, bytes.length, 0)) {
    throw invalid(what);
  }
  return top;
}

/** The children of a constructed value (empty for a primitive or absent one). */
export function itemsOf(node: Der | undefined): Der[] {
  if (!node || !(node.tag & 0x20)) return [];
  const out: Der[] = [];
  for (let at = node.body; at < node.end;) {
    const h = header(node.buf, at, node.end) as Der;
    out.push(h);
    at = h.end;
  }
  return out;
}

/** The contents of a value (no copy). */
export function contentOf(node: Der): Uint8Array {
  return node.buf.subarray(node.body, node.end);
}

/** The whole encoding of a value, header included (no copy). */
export function rawOf(node: Der): Uint8Array {
  return node.buf.subarray(node.start, node.end);
}

/** True for a context-specific value with tag number `n`, primitive or constructed. */
export function isContext(node: Der | undefined, n: number): boolean {
  return node !== undefined && (node.tag & 0xdf) === (0x80 | n);
}

/** Throws `invalid(what)` unless `node` has identifier octet `tag`. */
export function expect(node: Der | undefined, tag: number, invalid: Invalid, what: string): Der {
  if (!node || node.tag !== tag) throw invalid(what);
  return node;
}

/** The dotted OID of an OBJECT IDENTIFIER, or throws `invalid(what)`. */
export function oidOf(node: Der | undefined, invalid: Invalid, what: string): string {
  const c = contentOf(expect(node, TAG.oid, invalid, what));
  if (c.length === 0 || ((c[c.length - 1] as number) & 0x80) !== 0) throw invalid(what);
  const arcs: number[] = [];
  let value = 0;
  for (let i = 0; i < c.length; i++) {
    const b = c[i] as number;
    if (value === 0 && b === 0x80) throw invalid(what);
    value = value * 128 + (b & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) throw invalid(what);
    if (!(b & 0x80)) {
      if (arcs.length === 0)
        arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else arcs.push(value);
      value = 0;
    }
  }
  return arcs.join('.');
}

/** The content bytes of an INTEGER as hex, the form serial numbers are compared in. */
export function integerHex(node: Der | undefined, invalid: Invalid, what: string): string {
  const c = contentOf(expect(node, TAG.integer, invalid, what));
  if (c.length === 0) throw invalid(what);
  return hex(c);
}

/** A small non-negative INTEGER or ENUMERATED (at most 6 octets), or throws. */
export function smallInt(node: Der | undefined, invalid: Invalid, what: string): number {
  if (!node || (node.tag !== TAG.integer && node.tag !== TAG.enumerated)) throw invalid(what);
  const c = contentOf(node);
  if (c.length === 0 || c.length > 6 || ((c[0] as number) & 0x80) !== 0) throw invalid(what);
  let v = 0;
  for (const b of c) v = v * 256 + b;
  return v;
}

/** A BOOLEAN's value (DER allows only 0x00 and 0xff). */
export function booleanOf(node: Der | undefined, invalid: Invalid, what: string): boolean {
  const c = contentOf(expect(node, TAG.boolean, invalid, what));
  if (c.length !== 1 || (c[0] !== 0 && c[0] !== 0xff)) throw invalid(what);
  return c[0] === 0xff;
}

/** True for the content of an implicitly tagged BOOLEAN that is set. */
export function implicitTrue(node: Der): boolean {
  const c = contentOf(node);
  return c.length === 1 && c[0] !== 0;
}

/** A BIT STRING's unused-bit count and bytes. */
export function bitStringOf(
  node: Der | undefined,
  invalid: Invalid,
  what: string,
): { unused: number; bytes: Uint8Array } {
  const c = contentOf(expect(node, TAG.bitString, invalid, what));
  const unused = c[0];
  if (unused === undefined || unused > 7 || (c.length === 1 && unused !== 0)) throw invalid(what);
  return { unused, bytes: c.subarray(1) };
}

/** The bits of a BIT STRING, most significant first (bit 0 is the first named bit). */
export function bitStringBits(bits: { unused: number; bytes: Uint8Array }): boolean[] {
  const count = bits.bytes.length * 8 - bits.unused;
  const out: boolean[] = [];
  for (let n = 0; n < count; n++) {
    out.push((((bits.bytes[n >> 3] as number) >> (7 - (n & 7))) & 1) === 1);
  }
  return out;
}

/** AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }. */
export function readAlgorithm(node: Der | undefined, invalid: Invalid): AlgorithmId {
  const items = itemsOf(expect(node, TAG.sequence, invalid, 'algorithm identifier'));
  if (items.length < 1 || items.length > 2) throw invalid('algorithm identifier');
  const id = oidOf(items[0], invalid, 'algorithm identifier');
  return items[1] ? { oid: id, params: rawOf(items[1]) } : { oid: id };
}

function twoDigits(buf: Uint8Array, at: number): number {
  const hi = (buf[at] as number) - 0x30;
  const lo = (buf[at + 1] as number) - 0x30;
  return hi < 0 || hi > 9 || lo < 0 || lo > 9 ? -1 : hi * 10 + lo;
}

/**
 * A UTCTime (YYMMDDHHMMSSZ, years 1950-2049) or GeneralizedTime (YYYYMMDDHHMMSSZ), in whole
 * seconds: RFC 5280 4.1.2.5 allows no other form, fractions included. Read digit by digit,
 * since a large CRL holds hundreds of thousands of them.
 */
export function readTime(node: Der | undefined, invalid: Invalid): Date {
  const utc = node?.tag === TAG.utcTime;
  if (!node || (!utc && node.tag !== TAG.generalizedTime)) throw invalid('time');
  const { buf, body, end } = node;
  const digits = utc ? 12 : 14;
  if (end - body !== digits + 1 || buf[end - 1] !== 0x5a) throw invalid('time');
  const century = utc ? 0 : twoDigits(buf, body);
  const at = utc ? body : body + 2;
  const yy = twoDigits(buf, at);
  const mo = twoDigits(buf, at + 2);
  const d = twoDigits(buf, at + 4);
  const h = twoDigits(buf, at + 6);
  const mi = twoDigits(buf, at + 8);
  const sec = twoDigits(buf, at + 10);
  if (Math.min(century, yy, mo, d, h, mi, sec) < 0) throw invalid('time');
  const year = utc ? yy + (yy < 50 ? 2000 : 1900) : century * 100 + yy;
  const date = new Date(Date.UTC(year, mo - 1, d, h, mi, sec));
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || sec > 59) {
    throw invalid('time');
  }
  return date;
}

function stringValue(node: Der): string | undefined {
  const c = Buffer.from(contentOf(node));
  switch (node.tag) {
    case 0x0c:
      return c.toString('utf8');
    case 0x13:
    case 0x16:
    case 0x14:
    case 0x1a:
      return c.toString('latin1');
    case 0x1e: {
      if (c.length % 2) return undefined;
      const swapped = Buffer.from(c);
      swapped.swap16();
      return swapped.toString('utf16le');
    }
    case 0x1c: {
      if (c.length % 4) return undefined;
      let out = '';
      for (let i = 0; i < c.length; i += 4) {
        const cp = c.readUInt32BE(i);
        if (cp > 0x10ffff) return undefined;
        out += String.fromCodePoint(cp);
      }
      return out;
    }
    default:
      return undefined;
  }
}

function normalise(value: string): string {
  return value.trim().replace(/\s+/g, ' ').toLowerCase();
}

/** Name ::= SEQUENCE OF SET OF AttributeTypeAndValue (RFC 5280 4.1.2.4). */
export function readName(node: Der | undefined, invalid: Invalid): DistinguishedName {
  const seq = expect(node, TAG.sequence, invalid, 'name');
  const rdns: { oid: string; value: string }[][] = [];
  const text: string[] = [];
  const emails: string[] = [];
  for (const set of itemsOf(seq)) {
    const atvs = itemsOf(expect(set, TAG.set, invalid, 'name'));
    if (atvs.length === 0) throw invalid('name');
    const rdn: { oid: string; value: string }[] = [];
    for (const atv of atvs) {
      const [type, value, extra] = itemsOf(expect(atv, TAG.sequence, invalid, 'name attribute'));
      const oid = oidOf(type, invalid, 'name attribute');
      if (!value || extra) throw invalid('name attribute');
      const s = stringValue(value);
      if (oid === EMAIL_OID && s !== undefined) emails.push(s);
      const shown = s ?? `#${hex(rawOf(value))}`;
      rdn.push({ oid, value: s === undefined ? shown : normalise(s) });
      text.push(`${SHORT[oid] ?? oid}=${shown}`);
    }
    rdn.sort((a, b) => (a.oid + a.value < b.oid + b.value ? -1 : 1));
    rdns.push(rdn);
  }
  return {
    der: rawOf(seq),
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
export function readGeneralNames(nodes: readonly Der[], invalid: Invalid): GeneralNames {
  const out = {
    rfc822: [] as string[],
    dns: [] as string[],
    uri: [] as string[],
    directory: [] as DistinguishedName[],
    ip: [] as Uint8Array[],
    other: [] as string[],
  };
  for (const n of nodes) {
    if ((n.tag & 0xc0) !== 0x80) throw invalid('general name');
    const form = n.tag & 0x1f;
    const primitive = (n.tag & 0x20) === 0;
    if (form === 1 && primitive) out.rfc822.push(ascii(contentOf(n), invalid, 'rfc822Name'));
    else if (form === 2 && primitive) out.dns.push(ascii(contentOf(n), invalid, 'dNSName'));
    else if (form === 6 && primitive) out.uri.push(ascii(contentOf(n), invalid, 'URI'));
    else if (form === 7 && primitive) out.ip.push(contentOf(n));
    else if (form === 4 && !primitive) {
      const [name, extra] = itemsOf(n);
      if (!name || extra) throw invalid('directoryName');
      out.directory.push(readName(name, invalid));
    } else if (form === 0 || form === 3 || form === 5 || form === 8) {
      out.other.push(OTHER_FORMS[form] as string);
    } else throw invalid('general name');
  }
  return out;
}

/** Extensions ::= SEQUENCE OF Extension (RFC 5280 4.1). */
export function readExtensionList(node: Der | undefined, invalid: Invalid): RawExtension[] {
  return itemsOf(expect(node, TAG.sequence, invalid, 'extensions')).map((ext) => {
    const parts = itemsOf(expect(ext, TAG.sequence, invalid, 'extension'));
    const oid = oidOf(parts[0], invalid, 'extension');
    if (parts.length < 2 || parts.length > 3) throw invalid(`extension ${oid}`);
    const critical = parts.length === 3 && booleanOf(parts[1], invalid, `extension ${oid}`);
    const value = expect(parts[parts.length - 1], TAG.octetString, invalid, `extension ${oid}`);
    return { oid, critical, value: contentOf(value) };
  });
}
