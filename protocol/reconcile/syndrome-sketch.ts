/**
 * A set sketch made of BCH syndromes (the PinSketch construction) over 48-bit keys, for
 * reconciling a small set difference exactly.
 *
 * The sketch of capacity t of a set X of keys is its t odd power sums in GF(2^48)
 * (gf48.ts): s_j = sum of x^j over x in X, for j = 1, 3, ..., 2t - 1. Sums are XORs, so
 * adding a key and removing it are one operation, and the XOR of two sets' sketches is the
 * sketch of their symmetric difference. A difference of at most t keys is recovered
 * exactly from its sketch ({@link decodeDifference}); a larger one is refused, except with
 * the small probability stated there.
 *
 * Keys are integers in 1..2^48-1. Key 0 cannot be represented (every power of 0 is 0, so
 * it would leave no trace): callers must map their keys away from 0.
 *
 * What another implementation needs to agree with this one byte for byte is stated here
 * and in gf48.ts: the field polynomial, the power sums, the byte layout (6 bytes per
 * syndrome, big-endian, s_1 first) and the decode with its checks. The test file holds a
 * test vector.
 */

import {
  add,
  checkElement,
  fillMulTable,
  FIELD_BITS,
  HALF,
  inverse,
  MUL_TABLE_WORDS,
  mul,
  mulByTableInto,
  square,
} from './gf48.ts';

/** Bytes per syndrome on the wire: one field element, big-endian. */
export const SYNDROME_BYTES = 6;

/**
 * The largest capacity, and the most syndromes {@link decodeDifference} accepts. Decoding
 * a difference of L keys costs about 48 L^2 field products (in Node 20 on one core: 0.3 ms
 * for 10 keys, 6 ms for 64, 90 ms for 256), so this bounds the work a peer can ask for.
 */
export const MAX_CAPACITY = 256;

/** The largest key: 2^48 - 1. */
export const MAX_KEY = 2 ** 48 - 1;

/**
 * gamma = x^43, a normal element of GF(2^48): gamma, gamma^2, gamma^4, ..., gamma^(2^47)
 * are a basis over GF(2) (syndrome-sketch.test.ts checks it), the betas of root finding.
 */
export const NORMAL_ELEMENT = 2 ** 43;

/** Product tables for gamma^(2^i), i = 0..47 (72 KiB, built once, never written again). */
const CONJUGATE_TABLES = (() => {
  const t = new Int32Array(FIELD_BITS * MUL_TABLE_WORDS);
  for (let i = 0, g = NORMAL_ELEMENT; i < FIELD_BITS; i++, g = square(g)) {
    fillMulTable(g, t, i * MUL_TABLE_WORDS);
  }
  return t;
})();

function checkKey(key: number): void {
  if (!Number.isInteger(key) || key < 1 || key > MAX_KEY) {
    throw new RangeError(`expected a key in 1..2^48-1, got ${String(key)}`);
  }
}

function checkCount(t: number, max: number, what: string): void {
  if (!Number.isInteger(t) || t < 0 || t > max) {
    throw new RangeError(`expected ${what} in 0..${max}, got ${String(t)}`);
  }
}

/**
 * XORs key^1, key^3, ..., key^(2 count - 1) into hi/lo (24-bit halves of the syndromes).
 * One product by key^2 per syndrome, through a table for key^2 (gf48.ts, fillMulTable).
 */
function xorOddPowers(key: number, count: number, hi: Int32Array, lo: Int32Array, t: Int32Array) {
  let ph = (key / HALF) | 0;
  let pl = key - ph * HALF;
  fillMulTable(square(key), t, 0);
  for (let j = 0; ; j++) {
    hi[j] = hi[j]! ^ ph;
    lo[j] = lo[j]! ^ pl;
    if (j + 1 === count) return;
    let rh = 0;
    let rl = 0;
    for (let k = 0; k < 6; k++) {
      const a = 32 * k + 2 * ((pl >>> (4 * k)) & 15);
      const b = 192 + 32 * k + 2 * ((ph >>> (4 * k)) & 15);
      rh ^= t[a]! ^ t[b]!;
      rl ^= t[a + 1]! ^ t[b + 1]!;
    }
    ph = rh;
    pl = rl;
  }
}

/**
 * The syndromes s_1, s_3, ..., s_(2 capacity - 1) of a changing set of keys, kept up to
 * date one key at a time.
 */
export class SyndromeSketch {
  /** How many syndromes are kept. */
  readonly capacity: number;
  private readonly hi: Int32Array;
  private readonly lo: Int32Array;
  private readonly table = new Int32Array(MUL_TABLE_WORDS);

  /**
   * An empty sketch (all syndromes 0).
   * @throws RangeError when `capacity` is not an integer in 1..{@link MAX_CAPACITY}
   */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) {
      throw new RangeError(`expected a capacity in 1..${MAX_CAPACITY}, got ${String(capacity)}`);
    }
    this.capacity = capacity;
    this.hi = new Int32Array(capacity);
    this.lo = new Int32Array(capacity);
  }

  /**
   * The sketch whose syndromes are `syndromes` (as read by {@link read} or decoded by
   * {@link decodeSyndromeBytes}); its capacity is their count.
   * @throws RangeError when there are none or more than {@link MAX_CAPACITY}, or one is not
   *   a field element
   */
  static fromSyndromes(syndromes: ArrayLike<number>): SyndromeSketch {
    const s = new SyndromeSketch(syndromes.length);
    for (let i = 0; i < syndromes.length; i++) {
      const v = syndromes[i];
      checkElement(v, `syndrome ${i}`);
      s.hi[i] = (v / HALF) | 0;
      s.lo[i] = v % HALF;
    }
    return s;
  }

  /**
   * Adds `key` to the set, or removes it if present (the same XOR). Costs `capacity`
   * field products.
   * @throws RangeError when `key` is not an integer in 1..2^48-1 (0 has no sketch)
   */
  toggle(key: number): void {
    checkKey(key);
    xorOddPowers(key, this.capacity, this.hi, this.lo, this.table);
  }

  /**
   * A copy of the first `t` syndromes s_1, s_3, ..., s_(2t - 1): the sketch of capacity t
   * of the same set.
   * @throws RangeError when `t` is not an integer in 0..capacity
   */
  read(t: number = this.capacity): Float64Array {
    checkCount(t, this.capacity, 'a syndrome count');
    const out = new Float64Array(t);
    for (let i = 0; i < t; i++) out[i] = this.hi[i]! * HALF + this.lo[i]!;
    return out;
  }

  /** A copy that shares nothing mutable with this sketch. */
  clone(): SyndromeSketch {
    const c = new SyndromeSketch(this.capacity);
    c.hi.set(this.hi);
    c.lo.set(this.lo);
    return c;
  }
}

/**
 * The sketch of capacity `t` of `keys`, computed afresh. A key listed twice cancels out,
 * as two toggles do.
 * @throws RangeError when `t` is not an integer in 0..{@link MAX_CAPACITY}, or a key is
 *   not an integer in 1..2^48-1
 */
export function syndromesOf(keys: Iterable<number>, t: number): Float64Array {
  checkCount(t, MAX_CAPACITY, 'a syndrome count');
  if (t === 0) {
    for (const k of keys) checkKey(k);
    return new Float64Array(0);
  }
  const s = new SyndromeSketch(t);
  for (const k of keys) s.toggle(k);
  return s.read();
}

/**
 * Syndrome i (from 0) of `a` XOR syndrome i of `b`: the sketch of the symmetric difference
 * of the two sets.
 * @throws RangeError when the lengths differ or a value is not a field element
 */
export function xorSyndromes(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  if (a.length !== b.length) {
    throw new RangeError(
      `expected two syndrome lists of one length, got ${a.length} and ${b.length}`,
    );
  }
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    checkElement(x, `syndrome ${i}`);
    checkElement(y, `syndrome ${i}`);
    out[i] = add(x, y);
  }
  return out;
}

/**
 * The first `t` syndromes as 6 bytes each, big-endian, in the order s_1, s_3, ...
 * @throws RangeError when `t` is not an integer in 0..syndromes.length, or a syndrome is
 *   not a field element
 */
export function encodeSyndromes(
  syndromes: ArrayLike<number>,
  t: number = syndromes.length,
): Uint8Array {
  checkCount(t, syndromes.length, 'a syndrome count');
  const out = new Uint8Array(t * SYNDROME_BYTES);
  for (let i = 0; i < t; i++) {
    const v = syndromes[i];
    checkElement(v, `syndrome ${i}`);
    const h = (v / HALF) | 0;
    const l = v % HALF;
    const o = i * SYNDROME_BYTES;
    out[o] = h >>> 16;
    out[o + 1] = (h >>> 8) & 255;
    out[o + 2] = h & 255;
    out[o + 3] = l >>> 16;
    out[o + 4] = (l >>> 8) & 255;
    out[o + 5] = l & 255;
  }
  return out;
}

/**
 * The syndromes written by {@link encodeSyndromes}. Every 6 bytes are a valid syndrome;
 * the count is not limited here (a message decoder bounds it before calling).
 * @throws RangeError when the length is not a multiple of {@link SYNDROME_BYTES}
 */
export function decodeSyndromeBytes(bytes: Uint8Array): Float64Array {
  if (bytes.length % SYNDROME_BYTES !== 0) {
    throw new RangeError(
      `expected a multiple of ${SYNDROME_BYTES} syndrome bytes, got ${bytes.length}`,
    );
  }
  const out = new Float64Array(bytes.length / SYNDROME_BYTES);
  for (let i = 0, o = 0; i < out.length; i++, o += SYNDROME_BYTES) {
    const h = (bytes[o]! << 16) | (bytes[o + 1]! << 8) | bytes[o + 2]!;
    const l = (bytes[o + 3]! << 16) | (bytes[o + 4]! << 8) | bytes[o + 5]!;
    out[i] = h * HALF + l;
  }
  return out;
}

/**
 * The set of at most `maxKeys` keys whose sketch of capacity t = syndromes.length is
 * `syndromes`, sorted ascending; null when there is no such set.
 *
 * Such a set is unique (two of them would give a nonzero set of at most 2t keys with all
 * syndromes 0, which BCH codes of designed distance 2t + 1 rule out), so the answer does
 * not depend on the implementation: any decoder that makes the same checks returns the
 * same keys or null, whatever method it uses to find roots. The steps:
 * 1. the even syndromes are the squares s_2j = s_j^2, which gives s_1 .. s_2t;
 * 2. Berlekamp-Massey finds the shortest linear recurrence of s_1 .. s_2t, of length L,
 *    with connection polynomial 1 + c_1 z + ... + c_L z^L; L must be at most `maxKeys`;
 * 3. the locator x^L + c_1 x^(L-1) + ... + c_L, whose roots are the keys, must have
 *    c_L != 0 and L distinct roots in GF(2^48), that is x^(2^48) = x modulo it;
 * 4. the roots are found by Berlekamp's trace algorithm, splitting by Tr(beta x) for
 *    beta = gamma, gamma^2, gamma^4, ... in turn (gamma = {@link NORMAL_ELEMENT});
 * 5. the sketch of the roots must equal the input, value for value.
 *
 * When the true difference has more than `maxKeys` keys, the answer is null, or a wrong
 * set of at most `maxKeys` keys with the same sketch. For keys that behave like uniform
 * hashes the sketch of such a difference behaves like t random elements, and the chance
 * of the wrong set is about 2^(-48 (t - maxKeys)) / maxKeys!: with maxKeys = t, about
 * 1 / t! (certain for t = 1, where every nonzero s_1 is some key; 1 in 24 for t = 4; below
 * 2^-44 from t = 16); each syndrome held back as a check (maxKeys < t) divides it by 2^48.
 * A caller that cannot afford 1 / t! must keep a check syndrome or confirm the keys by
 * other means.
 *
 * @param maxKeys the largest difference to accept; t unless given
 * @throws RangeError when there are more than {@link MAX_CAPACITY} syndromes, one is not a
 *   field element, or `maxKeys` is not an integer in 0..t
 */
export function decodeDifference(
  syndromes: ArrayLike<number>,
  maxKeys: number = syndromes.length,
): number[] | null {
  const t = syndromes.length;
  if (t > MAX_CAPACITY) {
    throw new RangeError(`expected at most ${MAX_CAPACITY} syndromes, got ${t}`);
  }
  checkCount(maxKeys, t, 'maxKeys');
  const s = new Float64Array(2 * t);
  for (let i = 0; i < t; i++) {
    const v = syndromes[i];
    checkElement(v, `syndrome ${i}`);
    s[2 * i] = v; // s_(2i+1)
    s[2 * i + 1] = square(s[i]!); // s_(2i+2) = s_(i+1)^2, and s[i] is already set
  }
  const c = berlekampMassey(s, maxKeys);
  if (c === null) return null;
  const len = c.length - 1;
  if (len === 0) return []; // every discrepancy was 0: all syndromes are 0
  if (c[len] === 0) return null; // a root at 0: not a set of keys
  const locator = new Float64Array(len + 1);
  for (let i = 0; i <= len; i++) locator[i] = c[len - i]!;
  const roots = findRoots(locator);
  if (roots === null) return null;
  roots.sort((a, b) => a - b);
  const again = syndromesOf(roots, t);
  for (let i = 0; i < t; i++) if (again[i] !== syndromes[i]) return null;
  return roots;
}

/**
 * The connection polynomial 1 + c_1 z + ... + c_L z^L of the shortest linear recurrence
 * that generates s (s_k + c_1 s_(k-1) + ... + c_L s_(k-L) = 0 for L < k <= s.length), or
 * null as soon as L passes maxLen (L never decreases).
 */
function berlekampMassey(s: Float64Array, maxLen: number): Float64Array | null {
  const n = s.length;
  const c = new Float64Array(n + 1);
  let b = new Float64Array(n + 1);
  c[0] = 1;
  b[0] = 1;
  let len = 0; // L
  let bLen = 0; // degree bound of b
  let shift = 1; // steps since b was the connection polynomial
  let bDiscInv = 1; // the inverse of the discrepancy at that step
  for (let k = 0; k < n; k++) {
    let d = s[k]!;
    for (let i = 1; i <= len; i++) d = add(d, mul(c[i]!, s[k - i]!));
    if (d === 0) {
      shift++;
      continue;
    }
    const coef = mul(d, bDiscInv);
    const prev = 2 * len <= k ? c.slice() : null;
    for (let i = 0; i <= bLen && i + shift <= n; i++) {
      if (b[i] !== 0) c[i + shift] = add(c[i + shift]!, mul(coef, b[i]!));
    }
    if (prev === null) {
      shift++;
      continue;
    }
    bLen = len;
    len = k + 1 - len;
    if (len > maxLen) return null;
    b = prev;
    bDiscInv = inverse(d);
    shift = 1;
  }
  return c.slice(0, len + 1);
}

/** Index of the highest nonzero coefficient; -1 for the zero polynomial. */
function degree(p: Float64Array): number {
  let d = p.length - 1;
  while (d >= 0 && p[d] === 0) d--;
  return d;
}

/** p mod g, for g monic of degree k >= 1: k coefficients. */
function polyMod(p: Float64Array, g: Float64Array): Float64Array {
  const k = g.length - 1;
  const r = p.slice();
  for (let i = r.length - 1; i >= k; i--) {
    const c = r[i]!;
    if (c === 0) continue;
    for (let j = 0; j < k; j++) r[i - k + j] = add(r[i - k + j]!, mul(c, g[j]!));
  }
  return r.length > k ? r.slice(0, k) : r;
}

/** p divided by its leading coefficient; p must not be zero. */
function monic(p: Float64Array): Float64Array {
  const d = degree(p);
  const inv = inverse(p[d]!);
  const out = new Float64Array(d + 1);
  for (let i = 0; i <= d; i++) out[i] = mul(p[i]!, inv);
  return out;
}

/** The monic greatest common divisor of a (monic, degree >= 1) and b (any). */
function polyGcd(a: Float64Array, b: Float64Array): Float64Array {
  let x = a;
  let y = b;
  while (degree(y) >= 0) {
    const m = monic(y);
    const r = degree(m) === 0 ? new Float64Array(0) : polyMod(x, m);
    x = m;
    y = r;
  }
  return x;
}

/** g / h for monic h dividing g exactly. */
function polyDivExact(g: Float64Array, h: Float64Array): Float64Array {
  const k = h.length - 1;
  const r = g.slice();
  const q = new Float64Array(g.length - k);
  for (let i = r.length - 1; i >= k; i--) {
    const c = r[i]!;
    q[i - k] = c;
    if (c === 0) continue;
    for (let j = 0; j < k; j++) r[i - k + j] = add(r[i - k + j]!, mul(c, h[j]!));
  }
  return q;
}

/**
 * x^(2^i) mod f for i = 0..47, f monic of degree L >= 2, as 48 rows of L coefficients;
 * null unless x^(2^48) mod f = x, that is unless f is a product of distinct x - a with a in
 * GF(2^48). Each row is the square of the one before (squaring a polynomial squares its
 * coefficients into the even places), reduced from the top with tables for f's
 * coefficients: this is where decoding spends most of its time, 48 L^2 table products.
 */
function frobeniusRows(f: Float64Array): Float64Array | null {
  const len = f.length - 1;
  const tables = new Int32Array(len * MUL_TABLE_WORDS);
  for (let j = 0; j < len; j++) fillMulTable(f[j]!, tables, j * MUL_TABLE_WORDS);
  const rows = new Float64Array(FIELD_BITS * len);
  const cur = new Float64Array(len);
  cur[1] = 1; // x, as len >= 2
  rows.set(cur, 0);
  const rh = new Int32Array(2 * len - 1);
  const rl = new Int32Array(2 * len - 1);
  for (let step = 1; step <= FIELD_BITS; step++) {
    rh.fill(0);
    rl.fill(0);
    for (let m = 0; m < len; m++) {
      const v = square(cur[m]!);
      const h = (v / HALF) | 0;
      rh[2 * m] = h;
      rl[2 * m] = v - h * HALF;
    }
    // x^i = x^(i-L) * (f_0 + ... + f_(L-1) x^(L-1)) mod f, from the top row down.
    for (let i = 2 * len - 2; i >= len; i--) {
      const ch = rh[i]!;
      const cl = rl[i]!;
      if ((ch | cl) === 0) continue;
      const o0 = 2 * (cl & 15);
      const o1 = 32 + 2 * ((cl >>> 4) & 15);
      const o2 = 64 + 2 * ((cl >>> 8) & 15);
      const o3 = 96 + 2 * ((cl >>> 12) & 15);
      const o4 = 128 + 2 * ((cl >>> 16) & 15);
      const o5 = 160 + 2 * (cl >>> 20);
      const o6 = 192 + 2 * (ch & 15);
      const o7 = 224 + 2 * ((ch >>> 4) & 15);
      const o8 = 256 + 2 * ((ch >>> 8) & 15);
      const o9 = 288 + 2 * ((ch >>> 12) & 15);
      const o10 = 320 + 2 * ((ch >>> 16) & 15);
      const o11 = 352 + 2 * (ch >>> 20);
      for (let j = 0, p = 0, at = i - len; j < len; j++, p += MUL_TABLE_WORDS, at++) {
        const t = tables;
        rh[at] =
          rh[at]! ^
          t[p + o0]! ^
          t[p + o1]! ^
          t[p + o2]! ^
          t[p + o3]! ^
          t[p + o4]! ^
          t[p + o5]! ^
          t[p + o6]! ^
          t[p + o7]! ^
          t[p + o8]! ^
          t[p + o9]! ^
          t[p + o10]! ^
          t[p + o11]!;
        rl[at] =
          rl[at]! ^
          t[p + o0 + 1]! ^
          t[p + o1 + 1]! ^
          t[p + o2 + 1]! ^
          t[p + o3 + 1]! ^
          t[p + o4 + 1]! ^
          t[p + o5 + 1]! ^
          t[p + o6 + 1]! ^
          t[p + o7 + 1]! ^
          t[p + o8 + 1]! ^
          t[p + o9 + 1]! ^
          t[p + o10 + 1]! ^
          t[p + o11 + 1]!;
      }
    }
    for (let m = 0; m < len; m++) cur[m] = rh[m]! * HALF + rl[m]!;
    if (step < FIELD_BITS) rows.set(cur, step * len);
  }
  for (let m = 0; m < len; m++) if (cur[m] !== (m === 1 ? 1 : 0)) return null;
  return rows;
}

/**
 * Tr(beta x) mod f for beta = gamma^(2^i): the sum over j < 48 of beta^(2^j) x^(2^j), where
 * beta^(2^j) = gamma^(2^((i + j) mod 48)) and x^(2^j) mod f is row j of
 * {@link frobeniusRows}. At a root a of f it takes the value Tr(beta a), 0 or 1.
 */
function traceMod(rows: Float64Array, len: number, i: number): Float64Array {
  const hi = new Int32Array(len);
  const lo = new Int32Array(len);
  for (let j = 0; j < FIELD_BITS; j++) {
    const table = ((i + j) % FIELD_BITS) * MUL_TABLE_WORDS;
    for (let m = 0, o = j * len; m < len; m++, o++) {
      const v = rows[o]!;
      if (v !== 0) mulByTableInto(CONJUGATE_TABLES, table, v, hi, lo, m);
    }
  }
  const out = new Float64Array(len);
  for (let m = 0; m < len; m++) out[m] = hi[m]! * HALF + lo[m]!;
  return out;
}

/**
 * The L roots of f (monic, degree L >= 1, f(0) != 0), or null unless they are L distinct
 * elements of GF(2^48). Berlekamp's trace algorithm, without randomness: a factor g is
 * split by gcd(g, Tr(beta x) mod g) for the first basis element beta = gamma^(2^i) (i
 * counting up from where the split of g's parent stopped) that separates two of its roots.
 * Some beta always does, since a root a is fixed by its 48 traces Tr(beta a).
 */
function findRoots(f: Float64Array): number[] | null {
  const len = f.length - 1;
  if (len === 1) return [f[0]!];
  const rows = frobeniusRows(f);
  if (rows === null) return null;
  const traces: Float64Array[] = [];
  const roots: number[] = [];
  const work: { g: Float64Array; next: number }[] = [{ g: f, next: 0 }];
  for (let item = work.pop(); item !== undefined; item = work.pop()) {
    const { g } = item;
    const k = g.length - 1;
    if (k === 1) {
      roots.push(g[0]!);
      continue;
    }
    let i = item.next;
    for (; i < FIELD_BITS; i++) {
      const tr = (traces[i] ??= traceMod(rows, len, i));
      const h = polyGcd(g, k === len ? tr : polyMod(tr, g));
      const dh = h.length - 1;
      if (dh > 0 && dh < k) {
        work.push({ g: h, next: i + 1 }, { g: polyDivExact(g, h), next: i + 1 });
        break;
      }
    }
    if (i === FIELD_BITS) return null; // cannot happen once frobeniusRows accepted f
  }
  return roots.length === len ? roots : null;
}
