/**
 * Arithmetic in GF(2^48), the field of the syndrome sketch (syndrome-sketch.ts).
 *
 * An element is a JS number in 0..2^48-1 (exact, as it is below 2^53). Bit i is the
 * coefficient of x^i of a polynomial over GF(2), taken modulo the field polynomial
 * P = x^48 + x^5 + x^3 + x^2 + 1, which is irreducible (gf48.test.ts proves it by Rabin's
 * test). No trinomial of degree 48 is irreducible (48 is a multiple of 8, Swan's theorem),
 * so P is the irreducible pentanomial whose low terms are smallest; they fit in 6 bits, so
 * a product is folded back in two short steps. Addition is XOR.
 *
 * JS bitwise operators are 32 bits wide, so the code works on two 24-bit halves: an element
 * is hi * 2^24 + lo. Products of halves come from a table of all 8-bit by 8-bit carry-less
 * products (128 KiB, built once when the module loads and never written again).
 */

/** Bits per element. */
export const FIELD_BITS = 48;

/** Number of elements: 2^48. Elements are the integers 0..FIELD_ORDER-1. */
export const FIELD_ORDER = 2 ** 48;

/** The terms of P below x^48: x^5 + x^3 + x^2 + 1. */
export const POLY_LOW = 0b101101;

/** 2^24: the weight of the high half. */
export const HALF = 0x1000000;
const MASK = 0xffffff;

/** CLMUL8[(a << 8) | b]: the carry-less product of two bytes (15 bits). */
const CLMUL8 = (() => {
  const t = new Uint16Array(1 << 16);
  for (let a = 0; a < 256; a++) {
    for (let b = 0; b < 256; b++) {
      let r = 0;
      for (let i = 0; i < 8; i++) if ((b >>> i) & 1) r ^= a << i;
      t[(a << 8) | b] = r;
    }
  }
  return t;
})();

/** SPREAD12[v]: the 12 bits of v moved to the even bits 0, 2, ..., 22 (squaring is linear). */
const SPREAD12 = (() => {
  const t = new Int32Array(1 << 12);
  for (let v = 0; v < 1 << 12; v++) {
    let r = 0;
    for (let i = 0; i < 12; i++) r |= ((v >>> i) & 1) << (2 * i);
    t[v] = r;
  }
  return t;
})();

/** True when `v` is a field element: an integer in 0..2^48-1. */
export function isElement(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < FIELD_ORDER;
}

/**
 * Throws unless `v` is a field element; `what` names it in the message.
 * @throws RangeError "expected <what> in 0..2^48-1, got <v>"
 */
export function checkElement(v: unknown, what: string): asserts v is number {
  if (!isElement(v)) throw new RangeError(`expected ${what} in 0..2^48-1, got ${String(v)}`);
}

/** The high 24 bits of an element. */
export function hiHalf(a: number): number {
  return (a / HALF) | 0;
}

/** The low 24 bits of an element. */
export function loHalf(a: number): number {
  return a % HALF;
}

/** a + b (= a - b): bitwise XOR of the two 48-bit elements. */
export function add(a: number, b: number): number {
  const ah = (a / HALF) | 0;
  const bh = (b / HALF) | 0;
  return (ah ^ bh) * HALF + ((a - ah * HALF) ^ (b - bh * HALF));
}

/**
 * The product a * b. Karatsuba on the 24-bit halves: three 24-bit carry-less products of
 * nine byte products each, written out in line (this is the hot path of every decode).
 * The part of the product from x^48 up, H, is then replaced by H * (x^5 + x^3 + x^2 + 1).
 *
 * Arguments must be field elements; they are not checked (hot path).
 */
export function mul(a: number, b: number): number {
  const ah = (a / HALF) | 0;
  const al = a - ah * HALF;
  const bh = (b / HALF) | 0;
  const bl = b - bh * HALF;
  const t = CLMUL8;
  // al * bl = z0; a byte product ai * bj lands at 8 * (i + j) (c0..c4).
  let x0 = (al & 255) << 8;
  let x1 = ((al >>> 8) & 255) << 8;
  let x2 = (al >>> 16) << 8;
  let y0 = bl & 255;
  let y1 = (bl >>> 8) & 255;
  let y2 = bl >>> 16;
  let c0 = t[x0 | y0]!;
  let c1 = t[x0 | y1]! ^ t[x1 | y0]!;
  let c2 = t[x0 | y2]! ^ t[x1 | y1]! ^ t[x2 | y0]!;
  let c3 = t[x1 | y2]! ^ t[x2 | y1]!;
  let c4 = t[x2 | y2]!;
  const z0l = (c0 ^ (c1 << 8) ^ (c2 << 16)) & MASK;
  const z0h = (c2 >>> 8) ^ c3 ^ (c4 << 8);
  // ah * bh = z2
  x0 = (ah & 255) << 8;
  x1 = ((ah >>> 8) & 255) << 8;
  x2 = (ah >>> 16) << 8;
  y0 = bh & 255;
  y1 = (bh >>> 8) & 255;
  y2 = bh >>> 16;
  c0 = t[x0 | y0]!;
  c1 = t[x0 | y1]! ^ t[x1 | y0]!;
  c2 = t[x0 | y2]! ^ t[x1 | y1]! ^ t[x2 | y0]!;
  c3 = t[x1 | y2]! ^ t[x2 | y1]!;
  c4 = t[x2 | y2]!;
  const z2l = (c0 ^ (c1 << 8) ^ (c2 << 16)) & MASK;
  const z2h = (c2 >>> 8) ^ c3 ^ (c4 << 8);
  // (ah + al) * (bh + bl) = z1; the middle term is z1 + z0 + z2.
  const am = ah ^ al;
  const bm = bh ^ bl;
  x0 = (am & 255) << 8;
  x1 = ((am >>> 8) & 255) << 8;
  x2 = (am >>> 16) << 8;
  y0 = bm & 255;
  y1 = (bm >>> 8) & 255;
  y2 = bm >>> 16;
  c0 = t[x0 | y0]!;
  c1 = t[x0 | y1]! ^ t[x1 | y0]!;
  c2 = t[x0 | y2]! ^ t[x1 | y1]! ^ t[x2 | y0]!;
  c3 = t[x1 | y2]! ^ t[x2 | y1]!;
  c4 = t[x2 | y2]!;
  const z1l = (c0 ^ (c1 << 8) ^ (c2 << 16)) & MASK;
  const z1h = (c2 >>> 8) ^ c3 ^ (c4 << 8);
  // Product = z2h x^72 + w2 x^48 + w1 x^24 + z0l, each word 24 bits (z2h 23).
  const w1 = z0h ^ z1l ^ z0l ^ z2l;
  const w2 = z2l ^ z1h ^ z0h ^ z2h;
  return foldInto(z2h, w2, w1, z0l);
}

/** (h * 2^24 + l) + (hh * 2^24 + hl) * x^48 mod P, with hh below 2^24. */
function foldInto(hh: number, hl: number, h: number, l: number): number {
  let tl = hl ^ (hl << 2) ^ (hl << 3) ^ (hl << 5);
  let th = hh ^ (hh << 2) ^ (hh << 3) ^ (hh << 5) ^ (tl >>> 24);
  tl &= MASK;
  const over = th >>> 24;
  th &= MASK;
  tl ^= over ^ (over << 2) ^ (over << 3) ^ (over << 5);
  return (h ^ th) * HALF + (l ^ tl);
}

/** a * a. Cheaper than {@link mul}: squaring spreads the bits, then folds once. */
export function square(a: number): number {
  const ah = (a / HALF) | 0;
  const al = a - ah * HALF;
  const s = SPREAD12;
  return foldInto(s[ah >>> 12]!, s[ah & 0xfff]!, s[al >>> 12]!, s[al & 0xfff]!);
}

/** a^(2^k): `k` squarings. */
export function squareTimes(a: number, k: number): number {
  let r = a;
  for (let i = 0; i < k; i++) r = square(r);
  return r;
}

/**
 * The inverse of a nonzero element: a^(2^48 - 2) by an Itoh-Tsujii chain, 9 products and
 * 47 squarings. With b(k) = a^(2^k - 1): b(j + k) = b(j)^(2^k) * b(k), through
 * k = 1, 2, 4, 8, 16, 32, 40, 44, 46, 47, and a^-1 = b(47)^2.
 * @throws RangeError when `a` is 0 or not a field element
 */
export function inverse(a: number): number {
  if (!isElement(a) || a === 0) {
    throw new RangeError(`expected a nonzero field element, got ${String(a)}`);
  }
  const b1 = a;
  const b2 = mul(square(b1), b1);
  const b4 = mul(squareTimes(b2, 2), b2);
  const b8 = mul(squareTimes(b4, 4), b4);
  const b16 = mul(squareTimes(b8, 8), b8);
  const b32 = mul(squareTimes(b16, 16), b16);
  const b40 = mul(squareTimes(b32, 8), b8);
  const b44 = mul(squareTimes(b40, 4), b4);
  const b46 = mul(squareTimes(b44, 2), b2);
  const b47 = mul(square(b46), b1);
  return square(b47);
}

/** Int32 words in one table of {@link fillMulTable}: 12 nibbles x 16 values x 2 halves. */
export const MUL_TABLE_WORDS = 384;

/**
 * Fills out[off .. off + MUL_TABLE_WORDS) with the products of `m` by every 4-bit value at
 * every nibble position: for nibble k (0..11, from the low end) and value w (0..15), the
 * element m * w * x^(4k) has its high half at off + 32k + 2w and its low half one word
 * later. The product of m by any b is then the XOR of 12 entries ({@link mulByTable}), about
 * half the cost of {@link mul}; filling the table costs about as much as 10 products, so it
 * pays when m multiplies a few dozen values.
 *
 * `m` must be a field element; it is not checked (hot path).
 */
export function fillMulTable(m: number, out: Int32Array, off: number): void {
  let h = (m / HALF) | 0;
  let l = m - h * HALF;
  for (let base = off; base < off + MUL_TABLE_WORDS; base += 32) {
    // (h0, l0) .. (h3, l3): m x^(4k) times x^0 .. x^3; a product by x is a shift and, when
    // a bit passes x^47, the low terms of P.
    const h0 = h;
    const l0 = l;
    l <<= 1;
    h = (h << 1) | (l >>> 24);
    l = (l & MASK) ^ (-(h >>> 24) & POLY_LOW);
    h &= MASK;
    const h1 = h;
    const l1 = l;
    l <<= 1;
    h = (h << 1) | (l >>> 24);
    l = (l & MASK) ^ (-(h >>> 24) & POLY_LOW);
    h &= MASK;
    const h2 = h;
    const l2 = l;
    l <<= 1;
    h = (h << 1) | (l >>> 24);
    l = (l & MASK) ^ (-(h >>> 24) & POLY_LOW);
    h &= MASK;
    const h3 = h;
    const l3 = l;
    l <<= 1;
    h = (h << 1) | (l >>> 24);
    l = (l & MASK) ^ (-(h >>> 24) & POLY_LOW);
    h &= MASK;
    // The 16 values in Gray-code order, each one XOR from the one before: w = 1, 3, 2, 6,
    // 7, 5, 4, 12, 13, 15, 14, 10, 11, 9, 8 (entry w at base + 2w).
    let vh = h0;
    let vl = l0;
    out[base] = 0;
    out[base + 1] = 0;
    out[base + 2] = vh;
    out[base + 3] = vl;
    out[base + 6] = vh ^= h1;
    out[base + 7] = vl ^= l1;
    out[base + 4] = vh ^= h0;
    out[base + 5] = vl ^= l0;
    out[base + 12] = vh ^= h2;
    out[base + 13] = vl ^= l2;
    out[base + 14] = vh ^= h0;
    out[base + 15] = vl ^= l0;
    out[base + 10] = vh ^= h1;
    out[base + 11] = vl ^= l1;
    out[base + 8] = vh ^= h0;
    out[base + 9] = vl ^= l0;
    out[base + 24] = vh ^= h3;
    out[base + 25] = vl ^= l3;
    out[base + 26] = vh ^= h0;
    out[base + 27] = vl ^= l0;
    out[base + 30] = vh ^= h1;
    out[base + 31] = vl ^= l1;
    out[base + 28] = vh ^= h0;
    out[base + 29] = vl ^= l0;
    out[base + 20] = vh ^= h2;
    out[base + 21] = vl ^= l2;
    out[base + 22] = vh ^= h0;
    out[base + 23] = vl ^= l0;
    out[base + 18] = vh ^= h1;
    out[base + 19] = vl ^= l1;
    out[base + 16] = vh ^ h0;
    out[base + 17] = vl ^ l0;
  }
}

/**
 * m * b, where the table at t[off ..] was filled by {@link fillMulTable} for m.
 * `b` must be a field element; it is not checked (hot path).
 */
export function mulByTable(t: Int32Array, off: number, b: number): number {
  const bh = (b / HALF) | 0;
  const bl = b - bh * HALF;
  let rh = 0;
  let rl = 0;
  for (let k = 0; k < 6; k++) {
    const i = off + 32 * k + 2 * ((bl >>> (4 * k)) & 15);
    const j = off + 192 + 32 * k + 2 * ((bh >>> (4 * k)) & 15);
    rh ^= t[i]! ^ t[j]!;
    rl ^= t[i + 1]! ^ t[j + 1]!;
  }
  return rh * HALF + rl;
}

/**
 * XORs m * b into the halves hi[at], lo[at], where the table at t[off ..] was filled by
 * {@link fillMulTable} for m. `b` must be a field element; it is not checked (hot path).
 */
export function mulByTableInto(
  t: Int32Array,
  off: number,
  b: number,
  hi: Int32Array,
  lo: Int32Array,
  at: number,
): void {
  const bh = (b / HALF) | 0;
  const bl = b - bh * HALF;
  let rh = hi[at]!;
  let rl = lo[at]!;
  for (let k = 0; k < 6; k++) {
    const i = off + 32 * k + 2 * ((bl >>> (4 * k)) & 15);
    const j = off + 192 + 32 * k + 2 * ((bh >>> (4 * k)) & 15);
    rh ^= t[i]! ^ t[j]!;
    rl ^= t[i + 1]! ^ t[j + 1]!;
  }
  hi[at] = rh;
  lo[at] = rl;
}
