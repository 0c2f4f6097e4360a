import assert from 'node:assert/strict';
import test from 'node:test';

import { Decoder } from 'cbor-x';
import fc from 'fast-check';

import { isCertsyncError, type ErrorCode } from '../errors.ts';
import { cborValue } from '../messages/arbitraries.ts';
import { decodeCbor, encodeCbor, type CborValue } from './cbor.ts';
import { DEFAULT_LIMITS, type WireLimits } from './limits.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function rejects(bytes: Uint8Array, code: ErrorCode, limits: WireLimits = DEFAULT_LIMITS) {
  assert.throws(
    () => decodeCbor(bytes, limits),
    (err: unknown) => isCertsyncError(err) && err.code === code,
    `expected ${code} for ${toHex(bytes)}`,
  );
}

test('encodes integers in their shortest form, including beyond 2^32', () => {
  const cases: [number, string][] = [
    [0, '00'],
    [23, '17'],
    [24, '1818'],
    [255, '18ff'],
    [256, '190100'],
    [65536, '1a00010000'],
    [1_700_000_000_000, '1b0000018bcfe56800'],
    [Number.MAX_SAFE_INTEGER, '1b001fffffffffffff'],
    [-1, '20'],
    [-25, '3818'],
    [-Number.MAX_SAFE_INTEGER, '3b001ffffffffffffe'],
  ];
  for (const [n, h] of cases) {
    assert.equal(toHex(encodeCbor(n)), h, `${n}`);
    assert.equal(decodeCbor(hex(h), DEFAULT_LIMITS), n);
  }
});

test('sorts map keys by their encoded bytes (RFC 8949 §4.2.1)', () => {
  const m = new Map<string | number, CborValue>([
    ['b', 1],
    [-1, 2],
    [24, 3],
    [1, 4],
    ['a', 5],
  ]);
  // 01 < 18 18 < 20 < 61 61 < 61 62
  assert.equal(toHex(encodeCbor(m)), 'a5' + '0104' + '181803' + '2002' + '616105' + '616201');
});

test('rejects every form outside the subset with malformed-message', () => {
  const bad: [string, string][] = [
    ['', 'empty frame'],
    ['1801', 'non-shortest one-byte integer'],
    ['190017', 'non-shortest two-byte integer'],
    ['3a0000ffff', 'non-shortest negative'],
    ['5f4100ff', 'indefinite byte string'],
    ['9f01ff', 'indefinite array'],
    ['bf0101ff', 'indefinite map'],
    ['c100', 'tag'],
    ['d8400100', 'tag 64'],
    ['f93c00', 'half float'],
    ['fa3f800000', 'float32'],
    ['fb3ff0000000000000', 'float64'],
    ['f7', 'undefined'],
    ['f0', 'simple value 16'],
    ['f820', 'simple value 32'],
    ['ff', 'lone break'],
    ['1c', 'reserved additional information 28'],
    ['62c328', 'invalid UTF-8'],
    ['63616263ff', 'trailing byte'],
    ['4301', 'truncated byte string'],
    ['8201', 'truncated array'],
    ['a2010202', 'truncated map'],
    ['a201010101', 'duplicate key'],
    ['a202010101', 'keys out of order'],
    ['a1410001', 'byte-string key'],
    ['a18001', 'array key'],
    ['a1f501', 'boolean key'],
    ['1b', 'truncated head'],
  ];
  for (const [h, why] of bad) {
    assert.throws(
      () => decodeCbor(hex(h), DEFAULT_LIMITS),
      (e: unknown) => isCertsyncError(e) && e.code === 'malformed-message',
      why,
    );
  }
});

test('rejects integers beyond 2^53 − 1 with limit-exceeded', () => {
  rejects(hex('1b0020000000000000'), 'limit-exceeded');
  rejects(hex('3bffffffffffffffff'), 'limit-exceeded');
});

test('rejects a frame over the frame limit before reading it', () => {
  const limits = { ...DEFAULT_LIMITS, maxFrameBytes: 4096 };
  rejects(new Uint8Array(4097), 'frame-too-large', limits);
});

test('crafted length prefixes claiming 4 GB fail promptly with limit-exceeded', () => {
  for (const h of ['5affffffff', '7affffffff', '9affffffff', 'baffffffff', '5b0000000100000000']) {
    rejects(hex(h), 'limit-exceeded');
  }
});

test('enforces depth, item count, text, byte string and container limits', () => {
  const tight: WireLimits = {
    maxFrameBytes: 4096,
    maxItems: 10,
    maxDepth: 3,
    maxTextBytes: 4,
    maxByteStringBytes: 4,
    maxContainerLength: 5,
  };
  assert.deepEqual(decodeCbor(hex('8181' + '80'), tight), [[[]]]);
  rejects(hex('818181' + '80'), 'limit-exceeded', tight);
  rejects(hex('8a' + '00'.repeat(10)), 'limit-exceeded', tight);
  rejects(hex('8585' + '00'.repeat(5) + '00'.repeat(4)), 'limit-exceeded', tight);
  rejects(hex('65' + '61'.repeat(5)), 'limit-exceeded', tight);
  rejects(hex('45' + '00'.repeat(5)), 'limit-exceeded', tight);
  rejects(hex('86' + '00'.repeat(6)), 'limit-exceeded', tight);
  assert.equal(decodeCbor(hex('6461626364'), tight), 'abcd');
});

test('decoded byte strings are copies, not views of the frame', () => {
  const frame = hex('43010203');
  const b = decodeCbor(frame, DEFAULT_LIMITS) as Uint8Array;
  frame[1] = 9;
  assert.deepEqual([...b], [1, 2, 3]);
  assert.equal(b.byteLength, b.buffer.byteLength);
});

test('a __proto__ key stays an ordinary map key', () => {
  const v = decodeCbor(hex('a1695f5f70726f746f5f5fa16178f5'), DEFAULT_LIMITS);
  assert.ok(v instanceof Map);
  assert.ok(v.get('__proto__') instanceof Map);
  assert.equal(({} as Record<string, unknown>).x, undefined);
});

test('encode then decode is the identity for every subset value', () => {
  fc.assert(
    fc.property(cborValue(), (value) => {
      assert.deepEqual(decodeCbor(encodeCbor(value), DEFAULT_LIMITS), value);
    }),
    { numRuns: 500 },
  );
});

test('decode then encode is the identity for every accepted frame (one encoding per value)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      let value: CborValue;
      try {
        value = decodeCbor(bytes, DEFAULT_LIMITS);
      } catch {
        return;
      }
      assert.equal(toHex(encodeCbor(value)), toHex(bytes));
    }),
    { numRuns: 3000 },
  );
});

test('cbor-x, as an independent decoder, reads every encoding to the same value', () => {
  const reference = new Decoder({ mapsAsObjects: false, useRecords: false });
  // cbor-x returns a bigint for every 8-byte integer head.
  const normalise = (v: unknown): unknown =>
    typeof v === 'bigint'
      ? Number(v)
      : v instanceof Uint8Array
        ? Uint8Array.from(v)
        : Array.isArray(v)
          ? v.map(normalise)
          : v instanceof Map
            ? new Map([...v].map(([k, x]) => [k, normalise(x)]))
            : v;
  fc.assert(
    fc.property(cborValue(), (value) => {
      const decoded = reference.decode(Buffer.from(encodeCbor(value))) as unknown;
      assert.deepEqual(normalise(decoded), value);
    }),
    { numRuns: 300 },
  );
});

test('no decode allocates past the limits: any length claim over a limit is limit-exceeded', () => {
  // A head claiming more than the limit is rejected from the head alone: the frame holds
  // only the few bytes of the head, so nothing of the claimed size is ever reserved.
  const limitOf = (major: number) =>
    major === 2
      ? DEFAULT_LIMITS.maxByteStringBytes
      : major === 3
        ? DEFAULT_LIMITS.maxTextBytes
        : DEFAULT_LIMITS.maxContainerLength;
  fc.assert(
    fc.property(
      fc.constantFrom(2, 3, 4, 5),
      fc.integer({ min: 0, max: 5 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      (major, nesting, where) => {
        const limit = limitOf(major);
        const claim = limit + 1 + Math.floor(where * (Number.MAX_SAFE_INTEGER - limit - 1));
        const head = encodeCbor(claim);
        head[0] = (major << 5) | ((head[0] as number) & 0x1f);
        const frame = Uint8Array.from([...new Array(nesting).fill(0x81), ...head]);
        assert.ok(frame.length <= 14);
        rejects(frame, 'limit-exceeded');
      },
    ),
    { numRuns: 1000 },
  );
});
