import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  add,
  checkElement,
  fillMulTable,
  FIELD_ORDER,
  inverse,
  MUL_TABLE_WORDS,
  mul,
  mulByTable,
  mulByTableInto,
  POLY_LOW,
  square,
  squareTimes,
} from './gf48.ts';

// Reference arithmetic on BigInt polynomials over GF(2), sharing nothing with gf48.ts.
const P = (1n << 48n) | BigInt(POLY_LOW);

function bitLength(a: bigint): number {
  return a === 0n ? 0 : a.toString(2).length;
}

/** a mod m for polynomials over GF(2). */
function polyRem(a: bigint, m: bigint): bigint {
  const dm = bitLength(m);
  for (let d = bitLength(a); d >= dm; d = bitLength(a)) a ^= m << BigInt(d - dm);
  return a;
}

/** a * b mod P, shift and add. */
function refMul(a: bigint, b: bigint): bigint {
  let r = 0n;
  for (; b !== 0n; b >>= 1n) {
    if (b & 1n) r ^= a;
    a <<= 1n;
    if (a >> 48n) a ^= P;
  }
  return r;
}

function polyGcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, polyRem(a, b)];
  return a;
}

const element = fc.oneof(
  fc.integer({ min: 0, max: FIELD_ORDER - 1 }),
  fc.constantFrom(0, 1, 2, FIELD_ORDER - 1, 2 ** 47, 2 ** 24, 2 ** 24 - 1),
);
const nonzero = element.filter((a) => a !== 0);

test('the field polynomial x^48 + x^5 + x^3 + x^2 + 1 is irreducible (Rabin test)', () => {
  assert.equal(POLY_LOW, 0b101101);
  // x^(2^k) mod P for k = 0..48, by squaring in the reference arithmetic.
  const frob = [2n];
  for (let k = 1; k <= 48; k++) frob.push(refMul(frob[k - 1]!, frob[k - 1]!));
  // P divides x^(2^48) - x: every root of P lies in GF(2^48) ...
  assert.equal(frob[48], 2n);
  // ... and none in a proper subfield GF(2^24) or GF(2^16) (48 = 2^4 * 3: the primes 2, 3).
  assert.equal(polyGcd(P, frob[24]! ^ 2n), 1n);
  assert.equal(polyGcd(P, frob[16]! ^ 2n), 1n);
  // The same two facts through the fast arithmetic.
  assert.equal(squareTimes(2, 48), 2);
  assert.notEqual(squareTimes(2, 24), 2);
  assert.notEqual(squareTimes(2, 16), 2);
});

test('the spec field vectors', () => {
  assert.equal(mul(2 ** 47, 2), 0x2d);
  assert.equal(mul(0x123456789abc, 0xfedcba987654), 0xc4b090185804);
  assert.equal(square(FIELD_ORDER - 1), 0x555555555419);
  assert.equal(inverse(2), 0x800000000016);
  assert.equal(inverse(0x123456789abc), 0x38f353dfd714);
});

test('mul agrees with shift-and-add multiplication modulo P', () => {
  fc.assert(
    fc.property(element, element, (a, b) => {
      assert.equal(mul(a, b), Number(refMul(BigInt(a), BigInt(b))));
    }),
    { numRuns: 2000 },
  );
});

test('mul is commutative and associative and distributes over add', () => {
  fc.assert(
    fc.property(element, element, element, (a, b, c) => {
      assert.equal(mul(a, b), mul(b, a));
      assert.equal(mul(mul(a, b), c), mul(a, mul(b, c)));
      assert.equal(mul(a, add(b, c)), add(mul(a, b), mul(a, c)));
      assert.equal(add(a, a), 0);
      assert.equal(add(a, b), Number(BigInt(a) ^ BigInt(b)));
    }),
    { numRuns: 1000 },
  );
});

test('1 is the identity, 0 absorbs, and every nonzero element has an inverse', () => {
  fc.assert(
    fc.property(element, nonzero, (a, b) => {
      assert.equal(mul(a, 1), a);
      assert.equal(mul(a, 0), 0);
      assert.equal(mul(b, inverse(b)), 1);
      assert.equal(mul(mul(a, b), inverse(b)), a);
    }),
    { numRuns: 500 },
  );
  assert.throws(() => inverse(0), /^RangeError: expected a nonzero field element, got 0$/);
  assert.throws(() => inverse(2 ** 48), /^RangeError: expected a nonzero field element, got/);
});

test('square(a) = a * a, and a^(2^48) = a for every element', () => {
  fc.assert(
    fc.property(element, (a) => {
      assert.equal(square(a), mul(a, a));
      assert.equal(squareTimes(a, 48), a);
    }),
    { numRuns: 500 },
  );
});

test('a product through a table of m equals mul by m', () => {
  const table = new Int32Array(3 * MUL_TABLE_WORDS);
  const hi = new Int32Array(2);
  const lo = new Int32Array(2);
  fc.assert(
    fc.property(element, element, element, (m, b, c) => {
      fillMulTable(m, table, MUL_TABLE_WORDS);
      assert.equal(mulByTable(table, MUL_TABLE_WORDS, b), mul(m, b));
      hi[1] = Math.floor(c / 2 ** 24);
      lo[1] = c % 2 ** 24;
      mulByTableInto(table, MUL_TABLE_WORDS, b, hi, lo, 1);
      assert.equal(hi[1]! * 2 ** 24 + lo[1]!, add(c, mul(m, b)));
    }),
    { numRuns: 1000 },
  );
});

test('checkElement refuses what is not an integer in 0..2^48-1 with a RangeError', () => {
  for (const v of [-1, 2 ** 48, 1.5, Number.NaN, '3', undefined]) {
    assert.throws(
      () => checkElement(v, 'a syndrome'),
      (e: unknown) =>
        e instanceof RangeError &&
        e.message === `expected a syndrome in 0..2^48-1, got ${String(v)}`,
    );
  }
  checkElement(0, 'zero');
  checkElement(2 ** 48 - 1, 'the top element');
});
