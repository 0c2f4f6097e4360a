import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CertsyncError, isCertsyncError } from '../errors.ts';
import { decodeCbor, encodeCbor, type CborKey, type CborValue } from '../wire/cbor.ts';
import { DEFAULT_LIMITS } from '../wire/limits.ts';
import { ESTIMATOR_BYTES } from './estimator.ts';
import {
  decodeReconcileMessage,
  decodeStoreDigest,
  encodeReconcileMessage,
  encodeStoreDigest,
  type ReconcileMessage,
} from './messages.ts';

const bytes = (n: number): fc.Arbitrary<Uint8Array> =>
  fc.uint8Array({ minLength: n, maxLength: n });

const entryArb = fc.oneof(
  fc.record({
    kind: fc.constantFrom('cert' as const, 'crl' as const),
    fingerprint: bytes(32),
    deleted: fc.constant(false),
    clock: fc.maxSafeNat(),
    origin: bytes(16),
    der: fc.option(fc.uint8Array({ minLength: 1, maxLength: 64 }), { nil: null }),
    meta: fc.record({ label: fc.option(fc.string(), { nil: null }), pinned: fc.boolean() }),
  }),
  fc.record({
    kind: fc.constantFrom('cert' as const, 'crl' as const),
    fingerprint: bytes(32),
    deleted: fc.constant(true),
    clock: fc.maxSafeNat(),
    origin: bytes(16),
    der: fc.constant(null),
    meta: fc.constant({ label: null, pinned: false }),
  }),
);

const messageArb: fc.Arbitrary<ReconcileMessage> = fc.oneof(
  fc.record({
    type: fc.constant('cells' as const),
    start: fc.nat(),
    cells: fc.integer({ min: 1, max: 20 }).chain((n) => bytes(8 * n)),
  }),
  fc.record({
    type: fc.constant('keys' as const),
    keys: fc.integer({ min: 0, max: 20 }).chain((n) => bytes(6 * n)),
    wide: fc.constant(false),
    last: fc.boolean(),
  }),
  fc.record({ type: fc.constant('entry' as const), entry: entryArb }),
  fc.record({
    type: fc.constant('want' as const),
    records: fc.array(
      fc.record({ kind: fc.constantFrom('cert' as const, 'crl' as const), fingerprint: bytes(32) }),
      { maxLength: 5 },
    ),
  }),
  fc.constant({ type: 'done' as const }),
);

test('reconciliation message encode/decode round trips through the wire codec', () => {
  fc.assert(
    fc.property(messageArb, (msg) => {
      const { code, payload } = encodeReconcileMessage(msg);
      const wire = decodeCbor(encodeCbor(payload), DEFAULT_LIMITS) as ReadonlyMap<
        CborKey,
        CborValue
      >;
      assert.deepEqual(decodeReconcileMessage(code, wire), structuredClone(msg));
    }),
  );
});

test('reconciliation message decoder throws only CertsyncError on arbitrary payloads', () => {
  const value: fc.Arbitrary<CborValue> = fc.oneof(
    fc.nat(),
    fc.boolean(),
    fc.string(),
    fc.uint8Array({ maxLength: 40 }),
    fc.array(fc.oneof(fc.nat(), fc.uint8Array({ maxLength: 33 })), { maxLength: 3 }),
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 16, max: 31 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 8 }), value), { maxLength: 9 }),
      (code, fields) => {
        try {
          decodeReconcileMessage(code, new Map<CborKey, CborValue>(fields));
        } catch (err) {
          assert.ok(isCertsyncError(err), String(err));
        }
      },
    ),
  );
});

test('a deletion with DER and a cells run of a partial cell are refused', () => {
  const tomb = new Map<CborKey, CborValue>([
    [0, 1],
    [1, new Uint8Array(32)],
    [2, true],
    [3, 5],
    [4, new Uint8Array(16)],
    [7, new Uint8Array(3)],
  ]);
  assert.throws(() => decodeReconcileMessage(18, tomb), CertsyncError);
  const cells = new Map<CborKey, CborValue>([
    [0, 0],
    [1, new Uint8Array(12)],
  ]);
  assert.throws(() => decodeReconcileMessage(16, cells), /multiple of 8/);
});

test('store digest bytes round trip and reject a wrong format', () => {
  const d = {
    root: new Uint8Array(16).fill(7),
    count: 100_000,
    estimator: new Uint8Array(ESTIMATOR_BYTES).fill(3),
  };
  const b = encodeStoreDigest(d);
  assert.equal(b.length, 63);
  assert.deepEqual(decodeStoreDigest(b), d);
  const wrong = b.slice();
  wrong[0] = 2;
  assert.throws(() => decodeStoreDigest(wrong), CertsyncError);
  const huge = encodeStoreDigest({ ...d, count: 1_000_001 });
  assert.throws(
    () => decodeStoreDigest(huge),
    (err: unknown) => err instanceof CertsyncError && err.code === 'limit-exceeded',
  );
});
