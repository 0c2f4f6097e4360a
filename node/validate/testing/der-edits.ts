/**
 * Byte-level edits of a TBSCertificate for the bad certificates openssl refuses to write:
 * a negative or zero serial number, a repeated extension, extensions or unique identifiers
 * in a version 1 certificate, a signature algorithm inside the TBSCertificate that differs
 * from the outer one. Pair with {@link ChainLab.resign} to sign the result again.
 */
import { derHeader, derLength } from './chain-lab.ts';

/** The DER of each child of the constructed value `der`. */
export function childrenOf(der: Uint8Array): Uint8Array[] {
  const outer = derHeader(der, 0);
  const out: Uint8Array[] = [];
  let at = outer.header;
  const end = outer.header + outer.length;
  while (at < end) {
    const h = derHeader(der, at);
    out.push(der.subarray(at, at + h.header + h.length));
    at += h.header + h.length;
  }
  return out;
}

/** A constructed value with tag `tag` (0x30 for SEQUENCE) around `children`. */
export function wrap(tag: number, children: readonly Uint8Array[]): Uint8Array {
  const body = Buffer.concat(children.map((c) => Buffer.from(c)));
  return new Uint8Array(Buffer.concat([Buffer.from([tag]), derLength(body.length), body]));
}

/** Replaces the serial number with the INTEGER content bytes `content` (e.g. [0xff] is -1). */
export function withSerial(tbs: Uint8Array, content: readonly number[]): Uint8Array {
  const kids = childrenOf(tbs);
  const at = kids[0]?.[0] === 0xa0 ? 1 : 0;
  kids[at] = new Uint8Array([0x02, content.length, ...content]);
  return wrap(0x30, kids);
}

/** Repeats the first extension, so the certificate carries it twice. */
export function withFirstExtensionTwice(tbs: Uint8Array): Uint8Array {
  const kids = childrenOf(tbs);
  const last = kids.length - 1;
  const explicit = kids[last] as Uint8Array;
  if (explicit[0] !== 0xa3) throw new Error('expected a certificate with extensions');
  const list = childrenOf(explicit)[0] as Uint8Array;
  const exts = childrenOf(list);
  kids[last] = wrap(0xa3, [wrap(0x30, [...exts, exts[0] as Uint8Array])]);
  return wrap(0x30, kids);
}

/** Drops the version field (making the certificate version 1) and keeps its extensions. */
export function asVersion1(tbs: Uint8Array): Uint8Array {
  const kids = childrenOf(tbs);
  return wrap(0x30, kids[0]?.[0] === 0xa0 ? kids.slice(1) : kids);
}

/** Drops the version and the extensions, and adds an issuerUniqueID: a version 1 with one. */
export function asVersion1WithUniqueId(tbs: Uint8Array): Uint8Array {
  const kids = childrenOf(tbs).filter((k) => k[0] !== 0xa0 && k[0] !== 0xa3);
  return wrap(0x30, [...kids, Uint8Array.of(0x81, 0x02, 0x00, 0x5a)]);
}

/** Adds an issuerUniqueID before the extensions, keeping the version (3). */
export function withUniqueId(tbs: Uint8Array): Uint8Array {
  const kids = childrenOf(tbs);
  const last = kids.length - 1;
  if (kids[last]?.[0] !== 0xa3) throw new Error('expected a certificate with extensions');
  return wrap(0x30, [...kids.slice(0, last), Uint8Array.of(0x81, 0x02, 0x00, 0x5a), kids[last]]);
}

/** Replaces the signature algorithm inside the TBSCertificate with `algorithm` (DER). */
export function withInnerAlgorithm(tbs: Uint8Array, algorithm: Uint8Array): Uint8Array {
  const kids = childrenOf(tbs);
  const at = kids[0]?.[0] === 0xa0 ? 2 : 1;
  kids[at] = algorithm;
  return wrap(0x30, kids);
}
