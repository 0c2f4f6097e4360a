import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { add, mul, square } from './gf48.ts';
import {
  decodeDifference,
  decodeSyndromeBytes,
  encodeSyndromes,
  MAX_CAPACITY,
  MAX_KEY,
  NORMAL_ELEMENT,
  SYNDROME_BYTES,
  SyndromeSketch,
  syndromesOf,
  xorSyndromes,
} from './syndrome-sketch.ts';

/** s_1, s_3, ..., s_(2t-1) of `keys` by plain field products, apart from the sketch code. */
function referenceSyndromes(keys: Iterable<number>, t: number): number[] {
  const s = new Array<number>(t).fill(0);
  for (const x of keys) {
    const x2 = square(x);
    for (let i = 0, p = x; i < t; i++, p = mul(p, x2)) s[i] = add(s[i]!, p);
  }
  return s;
}

const sorted = (keys: Iterable<number>) => [...keys].sort((a, b) => a - b);

const key = fc.oneof(
  { weight: 9, arbitrary: fc.integer({ min: 1, max: MAX_KEY }) },
  { weight: 1, arbitrary: fc.constantFrom(1, 2, MAX_KEY, 2 ** 24, 2 ** 24 - 1, 2 ** 47) },
);

/** Two sets with a common part and a difference of `diff` keys, split at random. */
function twoSets(diff: fc.Arbitrary<number>) {
  return diff.chain((d) =>
    fc
      .tuple(
        fc.uniqueArray(key, { minLength: d, maxLength: d }),
        fc.uniqueArray(key, { maxLength: 20 }),
        fc.array(fc.boolean(), { minLength: d, maxLength: d }),
      )
      .map(([only, common, sides]) => {
        const shared = common.filter((k) => !only.includes(k));
        const a = [...shared, ...only.filter((_, i) => sides[i])];
        const b = [...shared, ...only.filter((_, i) => !sides[i])];
        return { a, b, difference: sorted(only) };
      }),
  );
}

test('the spec test vectors: three keys at t = 4, one key at t = 2, and two keys at t = 1', () => {
  const keys = [0xfedcba987654, 1, 0x000001000002];
  const bytes = encodeSyndromes(syndromesOf(keys, 4));
  assert.equal(
    Buffer.from(bytes).toString('hex'),
    'fedcbb987657' + '531a7a549f5d' + 'f0e05bdd5f28' + '083adb23ee1c',
  );
  const syndromes = decodeSyndromeBytes(bytes);
  assert.deepEqual(decodeDifference(syndromes), [1, 0x000001000002, 0xfedcba987654]);
  assert.deepEqual(decodeDifference(syndromes, 3), [1, 0x000001000002, 0xfedcba987654]);
  assert.equal(decodeDifference(syndromes, 2), null);
  const top = encodeSyndromes(syndromesOf([MAX_KEY], 2));
  assert.equal(Buffer.from(top).toString('hex'), 'ffffffffffff' + '333333332e47');
  // Two keys in a sketch of capacity 1 look like their XOR: the hazard of section 7.
  assert.equal(
    Buffer.from(encodeSyndromes(syndromesOf([1, 2], 1))).toString('hex'),
    '000000000003',
  );
  assert.deepEqual(decodeDifference([3], 1), [3]);
  assert.equal(decodeDifference([3], 0), null);
});

test('gamma = x^43 is a normal element: its 48 conjugates are independent over GF(2)', () => {
  assert.equal(NORMAL_ELEMENT, 2 ** 43);
  const rows: bigint[] = [];
  for (let i = 0, g = NORMAL_ELEMENT; i < 48; i++, g = square(g)) rows.push(BigInt(g));
  let rank = 0;
  for (let bit = 47n; bit >= 0n && rank < rows.length; bit--) {
    const pivot = rows.findIndex((r, i) => i >= rank && ((r >> bit) & 1n) === 1n);
    if (pivot < 0) continue;
    [rows[rank], rows[pivot]] = [rows[pivot]!, rows[rank]!];
    for (let i = 0; i < rows.length; i++) {
      if (i !== rank && ((rows[i]! >> bit) & 1n) === 1n) rows[i] = rows[i]! ^ rows[rank]!;
    }
    rank++;
  }
  assert.equal(rank, 48);
});

test('toggling keys in and out equals the sketch of the remaining set, computed afresh', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 64 }),
      fc.array(key, { maxLength: 40 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      (capacity, keys, repeats) => {
        const sketch = new SyndromeSketch(capacity);
        const held = new Set<number>();
        const toggled: number[] = [];
        const flip = (k: number) => {
          sketch.toggle(k);
          toggled.push(k);
          if (!held.delete(k)) held.add(k);
        };
        for (const k of keys) flip(k);
        for (const r of repeats) if (keys.length > 0) flip(keys[r % keys.length]!);
        assert.deepEqual([...sketch.read()], referenceSyndromes(held, capacity));
        const t = 1 + (repeats.length % capacity);
        assert.deepEqual([...sketch.read(t)], referenceSyndromes(held, t));
        assert.deepEqual([...syndromesOf(toggled, capacity)], referenceSyndromes(held, capacity));
      },
    ),
    { numRuns: 150 },
  );
});

test('sketch(A) xor sketch(B) decodes to exactly A xor B whenever that has at most t keys', () => {
  fc.assert(
    fc.property(
      fc
        .integer({ min: 1, max: 64 })
        .chain((t) => fc.tuple(fc.constant(t), twoSets(fc.integer({ min: 0, max: t })))),
      ([t, { a, b, difference }]) => {
        const sa = new SyndromeSketch(64);
        for (const k of a) sa.toggle(k);
        const sb = referenceSyndromes(b, t);
        const got = decodeDifference(xorSyndromes(sa.read(t), sb));
        assert.deepEqual(got, difference);
      },
    ),
    { numRuns: 120 },
  );
});

test('a difference of more than maxKeys keys never decodes when a syndrome is held back', () => {
  // With maxKeys < t a wrong answer needs t - maxKeys chance matches of 48-bit values; a
  // difference of at most t keys (but over maxKeys) cannot decode at all, its set is unique.
  fc.assert(
    fc.property(
      fc
        .integer({ min: 2, max: 64 })
        .chain((t) =>
          fc
            .integer({ min: 0, max: t - 1 })
            .chain((maxKeys) =>
              fc.tuple(
                fc.constant(t),
                fc.constant(maxKeys),
                fc.uniqueArray(key, { minLength: maxKeys + 1, maxLength: t + 6 }),
              ),
            ),
        ),
      ([t, maxKeys, keys]) => {
        assert.equal(decodeDifference(referenceSyndromes(keys, t), maxKeys), null);
      },
    ),
    { numRuns: 150 },
  );
});

test('a difference of more than t keys decodes to null from t >= 16 syndromes', () => {
  // The chance of a wrong set with no syndrome held back is about 1 / t! (below 2^-44).
  fc.assert(
    fc.property(
      fc
        .integer({ min: 16, max: 40 })
        .chain((t) =>
          fc.tuple(fc.constant(t), fc.uniqueArray(key, { minLength: t + 1, maxLength: t + 4 })),
        ),
      ([t, keys]) => {
        assert.equal(decodeDifference(referenceSyndromes(keys, t)), null);
      },
    ),
    { numRuns: 40 },
  );
});

test('without a check syndrome, 4 keys at t = 3 decode to 3 other keys about 1 time in 6', () => {
  // The documented 1 / t! bound is real: the caller of a small t must hold a syndrome back.
  const samples = fc.sample(fc.uniqueArray(key, { minLength: 4, maxLength: 4 }), {
    seed: 20240601,
    numRuns: 600,
  });
  let wrong = 0;
  for (const keys of samples) {
    const syndromes = referenceSyndromes(keys, 3);
    const got = decodeDifference(syndromes);
    assert.equal(decodeDifference(syndromes, 2), null);
    if (got === null) continue;
    wrong++;
    assert.equal(got.length, 3);
    assert.deepEqual(referenceSyndromes(got, 3), syndromes, 'a decode always re-encodes');
  }
  assert.ok(wrong > 60 && wrong < 140, `expected about 100 wrong decodes of 600, got ${wrong}`);
});

test('random syndromes decode to null when a syndrome is held back', () => {
  fc.assert(
    fc.property(
      fc
        .integer({ min: 1, max: 64 })
        .chain((t) =>
          fc.array(fc.integer({ min: 0, max: MAX_KEY }), { minLength: t, maxLength: t }),
        ),
      (syndromes) => {
        fc.pre(syndromes.some((s) => s !== 0));
        assert.equal(decodeDifference(syndromes, syndromes.length - 1), null);
      },
    ),
    { numRuns: 100 },
  );
});

test('an empty difference decodes to no keys, and one syndrome to one key', () => {
  assert.deepEqual(decodeDifference([]), []);
  assert.deepEqual(decodeDifference(new Float64Array(64)), []);
  assert.deepEqual(decodeDifference([0, 0, 0], 0), []);
  assert.deepEqual(decodeDifference([MAX_KEY]), [MAX_KEY]);
  assert.equal(decodeDifference([MAX_KEY], 0), null);
});

test('a clone shares nothing mutable, and fromSyndromes continues a sketch', () => {
  fc.assert(
    fc.property(fc.uniqueArray(key, { minLength: 2, maxLength: 12 }), (keys) => {
      const [first, ...rest] = keys;
      const sketch = new SyndromeSketch(16);
      sketch.toggle(first!);
      const copy = sketch.clone();
      for (const k of rest) copy.toggle(k);
      assert.deepEqual([...sketch.read()], referenceSyndromes([first!], 16));
      assert.deepEqual([...copy.read()], referenceSyndromes(keys, 16));
      const resumed = SyndromeSketch.fromSyndromes(sketch.read(8));
      assert.equal(resumed.capacity, 8);
      for (const k of rest) resumed.toggle(k);
      assert.deepEqual([...resumed.read()], referenceSyndromes(keys, 8));
      assert.deepEqual(decodeDifference(resumed.read()), keys.length <= 8 ? sorted(keys) : null);
    }),
    { numRuns: 100 },
  );
});

test('syndromes serialise to 6 bytes each, big-endian, in order, and back', () => {
  const one = encodeSyndromes([0x0102030a0b0c, 0xffffffffffff, 0], 2);
  assert.deepEqual([...one], [1, 2, 3, 10, 11, 12, 255, 255, 255, 255, 255, 255]);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: MAX_KEY }), { maxLength: 80 }), (s) => {
      const bytes = encodeSyndromes(s);
      assert.equal(bytes.length, s.length * SYNDROME_BYTES);
      assert.deepEqual([...decodeSyndromeBytes(bytes)], s);
      const t = Math.floor(s.length / 2);
      assert.deepEqual(encodeSyndromes(s, t), bytes.subarray(0, t * SYNDROME_BYTES));
    }),
  );
});

test('caller mistakes are RangeErrors saying what was expected and what came', () => {
  const throwsRange = (f: () => unknown, message: string) =>
    assert.throws(f, (e: unknown) => e instanceof RangeError && e.message === message);
  for (const c of [0, MAX_CAPACITY + 1, 1.5, Number.NaN]) {
    throwsRange(() => new SyndromeSketch(c), `expected a capacity in 1..256, got ${c}`);
  }
  const sketch = new SyndromeSketch(4);
  for (const k of [0, -1, 2 ** 48, 1.5, Number.NaN]) {
    throwsRange(() => sketch.toggle(k), `expected a key in 1..2^48-1, got ${k}`);
    throwsRange(() => syndromesOf([5, k], 2), `expected a key in 1..2^48-1, got ${k}`);
  }
  throwsRange(() => syndromesOf([0], 0), 'expected a key in 1..2^48-1, got 0');
  throwsRange(() => sketch.read(5), 'expected a syndrome count in 0..4, got 5');
  throwsRange(() => syndromesOf([1], 257), 'expected a syndrome count in 0..256, got 257');
  throwsRange(() => encodeSyndromes([1, 2], 3), 'expected a syndrome count in 0..2, got 3');
  throwsRange(
    () => encodeSyndromes([1, 2 ** 48]),
    'expected syndrome 1 in 0..2^48-1, got 281474976710656',
  );
  throwsRange(
    () => decodeSyndromeBytes(new Uint8Array(7)),
    'expected a multiple of 6 syndrome bytes, got 7',
  );
  throwsRange(
    () => xorSyndromes([1], [1, 2]),
    'expected two syndrome lists of one length, got 1 and 2',
  );
  throwsRange(() => xorSyndromes([1, -3], [1, 2]), 'expected syndrome 1 in 0..2^48-1, got -3');
  throwsRange(() => SyndromeSketch.fromSyndromes([]), 'expected a capacity in 1..256, got 0');
  throwsRange(
    () => SyndromeSketch.fromSyndromes([0.5]),
    'expected syndrome 0 in 0..2^48-1, got 0.5',
  );
  throwsRange(
    () => decodeDifference(new Float64Array(257)),
    'expected at most 256 syndromes, got 257',
  );
  throwsRange(
    () => decodeDifference([1, 2 ** 49]),
    'expected syndrome 1 in 0..2^48-1, got 562949953421312',
  );
  throwsRange(() => decodeDifference([1, 2], 3), 'expected maxKeys in 0..2, got 3');
  throwsRange(() => decodeDifference([1, 2], -1), 'expected maxKeys in 0..2, got -1');
});
