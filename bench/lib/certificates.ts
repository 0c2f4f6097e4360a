/**
 * A pool of certificates of realistic size for the sync benchmark, generated once and
 * cached under `bench/.cache/` so later runs only read them.
 *
 * Each certificate is a well-formed X.509 v3 DER (RFC 5280, section 4.1) as an S/MIME
 * user certificate has it: RSA 2048-bit key, sha256WithRSAEncryption, subject with name
 * and e-mail address, key usage, extended key usage `emailProtection`, subject alternative
 * name, key identifiers, CRL distribution point, OCSP address, and a policy extension whose
 * length spreads the sizes evenly from 1,000 to 2,000 bytes. Keys and signatures are
 * seeded random bytes of the right length: the certificates parse (openssl reads them) but
 * do not verify, which a reconcile never checks. Generating 100,000 real signatures would
 * take minutes and show nothing more about reconciliation.
 *
 * The cache holds two files: the DER, back to back, and an index of 38 bytes per
 * certificate (offset u32, length u16, SHA-256 fingerprint). Only the index stays in
 * memory; a certificate's DER is read from disk when a store sends it, as a store on disk
 * would read it, so the benchmark's peak memory is that of the reconcile, not of the DER.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync } from 'node:fs';
import { renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Bump when the generator changes, so stale caches are not reused. */
const FORMAT = 1;
const INDEX_RECORD = 38;

/** The default cache folder: `bench/.cache`. */
export const DEFAULT_CACHE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '.cache');

/** A seeded xorshift32 byte stream: the generator's only randomness. */
function randomBytes(seed: number): (n: number) => Uint8Array {
  let s = seed >>> 0 || 1;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      out[i] = s & 0xff;
    }
    return out;
  };
}

function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const len = parts.reduce((a, p) => a + p.length, 0);
  const head =
    len < 0x80 ? [tag, len] : len < 0x100 ? [tag, 0x81, len] : [tag, 0x82, len >> 8, len & 0xff];
  const out = new Uint8Array(head.length + len);
  out.set(head, 0);
  let o = head.length;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const seq = (...parts: Uint8Array[]): Uint8Array => tlv(0x30, ...parts);
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const utf8 = (s: string): Uint8Array => tlv(0x0c, text(s));
const ia5 = (s: string): Uint8Array => tlv(0x16, text(s));
const octets = (b: Uint8Array): Uint8Array => tlv(0x04, b);
const bits = (b: Uint8Array): Uint8Array => tlv(0x03, new Uint8Array([0]), b);

/** A DER OBJECT IDENTIFIER from dotted text. */
function oid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number);
  const body: number[] = [40 * arcs[0]! + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const groups: number[] = [];
    let v = arc;
    do {
      groups.unshift(v & 0x7f);
      v = Math.floor(v / 128);
    } while (v > 0);
    for (let i = 0; i < groups.length - 1; i++) groups[i]! |= 0x80;
    body.push(...groups);
  }
  return tlv(0x06, new Uint8Array(body));
}

/** A positive DER INTEGER from big-endian bytes. */
function integer(b: Uint8Array): Uint8Array {
  const top = b[0] as number;
  return top & 0x80 ? tlv(0x02, new Uint8Array([0]), b) : tlv(0x02, b);
}

function name(...rdns: [string, Uint8Array][]): Uint8Array {
  return seq(...rdns.map(([type, value]) => tlv(0x31, seq(oid(type), value))));
}

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  const flag = critical ? [tlv(0x01, new Uint8Array([0xff]))] : [];
  return seq(oid(id), ...flag, octets(value));
}

const SHA256_RSA = seq(oid('1.2.840.113549.1.1.11'), tlv(0x05));
const ISSUER = name(
  ['2.5.4.6', tlv(0x13, text('DE'))],
  ['2.5.4.10', utf8('Example Trust Services')],
  ['2.5.4.3', utf8('Example S/MIME Issuing CA 2')],
);
const NOT_BEFORE = tlv(0x17, text('260101000000Z'));
const NOT_AFTER = tlv(0x17, text('280101000000Z'));

/** Certificate `i` of the pool made by `random`, with a DER length near `target`. */
function certificate(i: number, random: (n: number) => Uint8Array, target: number): Uint8Array {
  const person = `Person ${i}`;
  const mail = `person.${i}@mail${i % 97}.example.org`;
  const modulus = random(256);
  modulus[0] = (modulus[0] as number) | 0x80;
  const rsaKey = seq(integer(modulus), tlv(0x02, new Uint8Array([1, 0, 1])));
  const spki = seq(seq(oid('1.2.840.113549.1.1.1'), tlv(0x05)), bits(rsaKey));
  const keyId = random(20);
  const exts = [
    extension('2.5.29.15', true, bits(new Uint8Array([0xb0]))),
    extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.4'))),
    extension('2.5.29.17', false, seq(tlv(0x81, text(mail)))),
    extension('2.5.29.19', true, seq()),
    extension('2.5.29.14', false, octets(keyId)),
    extension('2.5.29.35', false, seq(tlv(0x80, random(20)))),
    extension(
      '2.5.29.31',
      false,
      seq(seq(tlv(0xa0, tlv(0xa0, tlv(0x86, text('http://crl.example.org/smime-ca2.crl')))))),
    ),
    extension(
      '1.3.6.1.5.5.7.1.1',
      false,
      seq(seq(oid('1.3.6.1.5.5.7.48.1'), tlv(0x86, text('http://ocsp.example.org')))),
    ),
  ];
  const build = (policyBytes: number): Uint8Array => {
    const notice = ia5('x'.repeat(Math.max(0, policyBytes)));
    const policy = seq(
      seq(oid('1.3.6.1.4.1.99999.1.2'), seq(seq(oid('1.3.6.1.5.5.7.2.2'), seq(notice)))),
    );
    const tbs = seq(
      tlv(0xa0, tlv(0x02, new Uint8Array([2]))),
      integer(random(16)),
      SHA256_RSA,
      ISSUER,
      seq(NOT_BEFORE, NOT_AFTER),
      name(
        ['2.5.4.6', tlv(0x13, text('DE'))],
        ['2.5.4.3', utf8(person)],
        ['1.2.840.113549.1.9.1', ia5(mail)],
      ),
      spki,
      tlv(0xa3, seq(...exts, extension('2.5.29.32', false, policy))),
    );
    return seq(tbs, SHA256_RSA, bits(random(256)));
  };
  // One trial build tells how many filler bytes reach the target length.
  const first = build(0);
  return build(target - first.length - 8);
}

/** Certificates held by index; DER read from the cache file on demand. */
export interface CertificatePool {
  readonly count: number;
  /** SHA-256 of certificate `i`'s DER (a view into the index; do not modify). */
  fingerprint(i: number): Uint8Array;
  /** Length of certificate `i`'s DER, in bytes. */
  size(i: number): number;
  /** Certificate `i`'s DER, read from disk. */
  der(i: number): Uint8Array;
  /** Closes the cache file. */
  close(): void;
}

/**
 * Opens a pool of `count` certificates, generating and caching it first when the cache
 * lacks it (about 1 s per 10,000 certificates). Pools of one seed share their prefix:
 * certificate i is the same in a pool of 1,000 and one of 100,000.
 *
 * @throws RangeError for a count that is not a positive integer
 */
export function openCertificatePool(count: number, cacheDir = DEFAULT_CACHE_DIR): CertificatePool {
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`expected a positive certificate count, got ${count}`);
  }
  mkdirSync(cacheDir, { recursive: true });
  const base = join(cacheDir, `certificates-v${FORMAT}-${count}`);
  if (!existsSync(`${base}.idx`)) generate(count, base);
  const index = readFileSync(`${base}.idx`);
  if (index.length !== count * INDEX_RECORD) {
    throw new Error(`certificate cache ${base}.idx is damaged: delete it to regenerate`);
  }
  const view = new DataView(index.buffer, index.byteOffset, index.length);
  const fd = openSync(`${base}.der`, 'r');
  const check = (i: number): number => {
    if (!Number.isInteger(i) || i < 0 || i >= count) {
      throw new RangeError(`expected a certificate index in 0..${count - 1}, got ${i}`);
    }
    return i * INDEX_RECORD;
  };
  return {
    count,
    fingerprint: (i) => index.subarray(check(i) + 6, check(i) + INDEX_RECORD),
    size: (i) => view.getUint16(check(i) + 4),
    der(i) {
      const o = check(i);
      const out = new Uint8Array(view.getUint16(o + 4));
      readSync(fd, out, 0, out.length, view.getUint32(o));
      return out;
    },
    close: () => closeSync(fd),
  };
}

function generate(count: number, base: string): void {
  const random = randomBytes(0xce27 + FORMAT);
  const chunks: Uint8Array[] = [];
  const index = new Uint8Array(count * INDEX_RECORD);
  const view = new DataView(index.buffer);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const target = 1_000 + ((i * 7_919) % 1_001);
    const der = certificate(i, random, target);
    chunks.push(der);
    view.setUint32(i * INDEX_RECORD, offset);
    view.setUint16(i * INDEX_RECORD + 4, der.length);
    index.set(createHash('sha256').update(der).digest(), i * INDEX_RECORD + 6);
    offset += der.length;
  }
  // Written under temporary names and renamed, so a run that dies leaves no half cache.
  writeFileSync(`${base}.der.tmp`, Buffer.concat(chunks));
  writeFileSync(`${base}.idx.tmp`, index);
  renameSync(`${base}.der.tmp`, `${base}.der`);
  renameSync(`${base}.idx.tmp`, `${base}.idx`);
}
