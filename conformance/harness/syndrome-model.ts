/**
 * The runner's own model of spec/reconcile.md 8.1, written from the spec and sharing no
 * code with protocol/reconcile/: the field GF(2^48) (multiplication as plain shift-and-add
 * modulo x^48 + x^5 + x^3 + x^2 + 1), the odd power sums of a set of keys and their bytes
 * on the wire. It has no decoder: the runner knows both stores, so it knows the difference
 * and needs only to say whether a decode with limit m succeeds (see {@link decodesWithin}).
 * conformance/harness/syndrome-model.test.ts checks it against the vectors of section 8.1.
 */
import type { Key } from './reconcile-model.ts';

const HALF = 0x1000000;
/** x^5 + x^3 + x^2 + 1: what x^48 is modulo the field polynomial. */
const REDUCTION = 0b101101;

/** A field element as its two 24-bit halves (bits 24..47, bits 0..23). */
interface Element {
  hi: number;
  lo: number;
}

const split = (a: number): Element => ({ hi: Math.floor(a / HALF), lo: a % HALF });
const join = (e: Element): number => e.hi * HALF + e.lo;

/**
 * The product of two elements of GF(2^48): for each bit i of `b`, add a·x^i, where a·x^i is
 * kept reduced by shifting one bit at a time and folding x^48 back as x^5 + x^3 + x^2 + 1.
 *
 * @throws RangeError when an argument is not an integer in 0..2^48 − 1
 */
export function gfMul(a: number, b: number): number {
  for (const v of [a, b]) {
    if (!Number.isInteger(v) || v < 0 || v >= 2 ** 48) {
      throw new RangeError(`expected a field element in 0..2^48-1, got ${v}`);
    }
  }
  const x = split(a);
  const y = split(b);
  const r = { hi: 0, lo: 0 };
  for (let i = 0; i < 48; i++) {
    const bit = i < 24 ? (y.lo >>> i) & 1 : (y.hi >>> (i - 24)) & 1;
    if (bit === 1) {
      r.hi ^= x.hi;
      r.lo ^= x.lo;
    }
    const carry = x.hi >>> 23;
    x.hi = ((x.hi << 1) & 0xffffff) | (x.lo >>> 23);
    x.lo = (x.lo << 1) & 0xffffff;
    if (carry === 1) x.lo ^= REDUCTION;
  }
  return join(r);
}

/** The sum (XOR) of two field elements. */
export function gfAdd(a: number, b: number): number {
  const x = split(a);
  const y = split(b);
  return join({ hi: x.hi ^ y.hi, lo: x.lo ^ y.lo });
}

/** A sketch key as a field element: its 48 bits, `hi` the high half. */
export const elementOf = (k: Key): number => k.hi * HALF + k.lo;

/**
 * The sketch of capacity `t` of a list of keys: s_1, s_3, ..., s_(2t−1), s_j the sum of x^j
 * over the keys. Key 0 is left out; a key listed twice cancels, as a sum in GF(2) does.
 */
export function powerSums(keys: readonly Key[], t: number): number[] {
  const s = new Array<number>(t).fill(0);
  for (const k of keys) {
    const x = elementOf(k);
    if (x === 0) continue;
    const square = gfMul(x, x);
    let p = x;
    for (let j = 0; j < t; j++) {
      s[j] = gfAdd(s[j] as number, p);
      if (j + 1 < t) p = gfMul(p, square);
    }
  }
  return s;
}

/** Syndromes as the wire carries them: 6 bytes each, most significant first, s_1 first. */
export function syndromeBytes(syndromes: readonly number[]): Uint8Array {
  const out = new Uint8Array(6 * syndromes.length);
  syndromes.forEach((v, i) => {
    const { hi, lo } = split(v);
    out.set([hi >>> 16, (hi >>> 8) & 255, hi & 255, lo >>> 16, (lo >>> 8) & 255, lo & 255], 6 * i);
  });
  return out;
}

/**
 * The nonzero keys that differ between two key lists: those listed an odd number of times
 * in both together (a key both hold cancels in every sum), as 12 hex digits.
 */
export function syndromeDifference(a: readonly Key[], b: readonly Key[]): Set<string> {
  const odd = new Set<string>();
  for (const k of [...a, ...b]) {
    if (elementOf(k) === 0) continue;
    const name = elementOf(k).toString(16).padStart(12, '0');
    if (odd.has(name)) odd.delete(name);
    else odd.add(name);
  }
  return odd;
}

/**
 * Whether decoding the difference syndromes with limit `m` succeeds, for a difference of
 * `size` nonzero keys (section 8.1): the decode gives the unique set of at most m keys with
 * those syndromes, so it succeeds exactly when size <= m. A larger difference whose
 * syndromes some other set of at most m keys shares would decode to that set; with a check
 * syndrome held back (m = t − 1) that happens with probability about 2^-48, which the
 * model neglects.
 */
export const decodesWithin = (size: number, m: number): boolean => size <= m;
