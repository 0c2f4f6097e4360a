import assert from 'node:assert/strict';
import test from 'node:test';

import fc from 'fast-check';

import { isCertsyncError, type ErrorCode } from '../errors.ts';
import { encodeCbor, type CborValue } from '../wire/cbor.ts';
import { DEFAULT_LIMITS } from '../wire/limits.ts';
import { anyMessage, messageOf } from './arbitraries.ts';
import { MESSAGES, type Message, type MessageName } from './catalog.ts';
import { decodeFrame, encodeMessage, encodeReconcile } from './codec.ts';

const L = DEFAULT_LIMITS;
const id = (b: number) => new Uint8Array(32).fill(b);

function rejects(frame: Uint8Array, code: ErrorCode, why: string) {
  assert.throws(
    () => decodeFrame(frame, L),
    (e: unknown) => isCertsyncError(e) && e.code === code,
    why,
  );
}

const frame = (version: number, type: number, entries: Iterable<[number | string, CborValue]>) =>
  encodeCbor([version, type, new Map(entries)]);

test('encode then decode is the identity for every message', () => {
  fc.assert(
    fc.property(anyMessage(), (message) => {
      const decoded = decodeFrame(encodeMessage(1, message, L), L);
      assert.equal(decoded.kind, 'message');
      assert.deepEqual(decoded.kind === 'message' && decoded.message, message);
    }),
    { numRuns: 1000 },
  );
});

test('every message type round-trips (each name at least 50 times)', () => {
  for (const name of Object.keys(MESSAGES) as MessageName[]) {
    fc.assert(
      fc.property(messageOf(name), (m) => {
        const d = decodeFrame(encodeMessage(3, m, L), L);
        assert.ok(d.kind === 'message' && d.version === 3 && d.message.type === name);
        assert.deepEqual(d.message, m);
      }),
      { numRuns: 50 },
    );
  }
});

test('decoding arbitrary bytes yields a message or a CertsyncError, nothing else', () => {
  const mutated = anyMessage().chain((m) => {
    const bytes = encodeMessage(1, m, L);
    return fc
      .array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 })), {
        maxLength: 4,
      })
      .map((edits) => {
        const copy = Uint8Array.from(bytes);
        for (const [at, b] of edits) copy[at] = b;
        return copy;
      });
  });
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), mutated), (bytes) => {
      try {
        const d = decodeFrame(bytes, L);
        assert.ok(['message', 'reconcile', 'ignored'].includes(d.kind));
      } catch (err) {
        assert.ok(isCertsyncError(err), `not a CertsyncError: ${String(err)}`);
        assert.notEqual(err.code, 'internal');
      }
    }),
    { numRuns: 5000 },
  );
});

test('no decode allocates past the limits: huge length claims return promptly', () => {
  // A goodbye whose reason claims 4 GiB of text, and an items batch claiming 2^32 items.
  const claims = ['8301 02 a1 00 7b0000000100000000', '8301 18 29 a1 02 9b0000000100000000'];
  for (const h of claims) {
    const bytes = Uint8Array.from(Buffer.from(h.replace(/ /g, ''), 'hex'));
    rejects(bytes, 'limit-exceeded', h);
  }
  const big = new Uint8Array(L.maxFrameBytes + 1);
  rejects(big, 'frame-too-large', 'frame over the limit');
});

test('rejects envelopes that are not [version, type, map]', () => {
  rejects(encodeCbor([1, 2]), 'malformed-message', 'two elements');
  rejects(encodeCbor([1, 2, new Map(), 0]), 'malformed-message', 'four elements');
  rejects(encodeCbor(new Map([[0, 1]])), 'malformed-message', 'a map');
  rejects(encodeCbor([0, 2, new Map()]), 'malformed-message', 'version 0');
  rejects(encodeCbor([70000, 2, new Map()]), 'malformed-message', 'version too large');
  rejects(encodeCbor([1, 0, new Map()]), 'malformed-message', 'type 0');
  rejects(encodeCbor([1, 'goodbye', new Map()]), 'malformed-message', 'text type');
  rejects(encodeCbor([1, 2, [1]]), 'malformed-message', 'array payload');
});

test('unknown types: below 128 fail with unknown-message, from 128 up are skipped', () => {
  rejects(frame(1, 4, []), 'unknown-message', 'type 4');
  rejects(frame(1, 127, []), 'unknown-message', 'type 127');
  assert.deepEqual(decodeFrame(frame(1, 128, [[0, 'x']]), L), {
    kind: 'ignored',
    version: 1,
    code: 128,
  });
  assert.equal(decodeFrame(frame(1, 40000, []), L).kind, 'ignored');
});

test('reconciliation types 16..31 pass their payload through unchecked', () => {
  const payload = new Map<number, CborValue>([[0, new Uint8Array([1, 2])]]);
  const d = decodeFrame(encodeReconcile(1, 17, payload, L), L);
  assert.deepEqual(d, { kind: 'reconcile', version: 1, code: 17, payload });
  assert.throws(() => encodeReconcile(1, 32, payload, L), RangeError);
});

test('unknown fields: non-negative keys are ignored, negative keys are must-understand', () => {
  const goodbye = (extra: [number | string, CborValue][]) => frame(1, 2, [[0, 'done'], ...extra]);
  const d = decodeFrame(
    goodbye([
      [7, 'later field'],
      ['x', 1],
    ]),
    L,
  );
  assert.deepEqual(d.kind === 'message' && d.message, { type: 'goodbye', reason: 'done' });
  rejects(goodbye([[-1, true]]), 'malformed-message', 'must-understand field -1');
});

test('a __proto__ key in a payload is an ignored unknown field and reaches no prototype', () => {
  const bytes = frame(1, 2, [
    [0, 'bye'],
    ['__proto__', new Map([['polluted', true]])],
  ]);
  const d = decodeFrame(bytes, L);
  assert.deepEqual(d.kind === 'message' && d.message, { type: 'goodbye', reason: 'bye' });
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf(d.kind === 'message' && d.message), Object.prototype);
});

test('payload schema violations fail with malformed-message naming the field', () => {
  const errorPayload = (fields: [number, CborValue][]) => frame(1, 3, fields);
  const cases: [Uint8Array, string][] = [
    [
      errorPayload([
        [1, 'm'],
        [3, true],
      ]),
      'error.code: missing',
    ],
    [
      errorPayload([
        [0, 5],
        [1, 'm'],
        [3, true],
      ]),
      'error.code: expected text',
    ],
    [
      errorPayload([
        [0, 'timeout'],
        [1, 'm'],
        [3, 1],
      ]),
      'error.fatal: expected a boolean',
    ],
    [
      frame(1, 51, [
        [0, 1],
        [1, new Uint8Array(31)],
      ]),
      'overflow-answer.victim',
    ],
    [
      frame(1, 32, [
        [0, 1],
        [1, 9],
        [2, 0],
        [4, 10],
      ]),
      'list-request.order',
    ],
    [
      frame(1, 32, [
        [0, 1],
        [1, 0],
        [2, 0],
        [4, 513],
      ]),
      'list-request.limit',
    ],
    [
      frame(1, 48, [
        [0, -1],
        [1, []],
      ]),
      'delete-request.id',
    ],
    [frame(1, 1, [[0, [1]]]), 'hello.versions'],
  ];
  for (const [bytes, where] of cases) {
    assert.throws(
      () => decodeFrame(bytes, L),
      (e: unknown) =>
        isCertsyncError(e) && e.code === 'malformed-message' && e.message.startsWith(where),
      where,
    );
  }
});

test('an error code a newer peer invented is read as internal', () => {
  const d = decodeFrame(
    frame(
      1,
      3,
      new Map<number, CborValue>([
        [0, 'quota-exhausted'],
        [1, 'm'],
        [3, false],
      ]),
    ),
    L,
  );
  assert.equal(d.kind === 'message' && d.message.type === 'error' && d.message.code, 'internal');
});

test('encoding a message over the frame limit fails with frame-too-large', () => {
  const der = new Uint8Array(150_000);
  const items: Message = {
    type: 'items',
    id: 1,
    seq: 0,
    tombstones: [],
    items: [0, 1].map(() => ({
      kind: 'cert' as const,
      der,
      pinned: false,
      clock: 1,
      origin: new Uint8Array(16),
      addedAt: 0,
      useCount: 0,
    })),
  };
  assert.throws(
    () => encodeMessage(1, items, L),
    (e: unknown) => isCertsyncError(e) && e.code === 'frame-too-large',
  );
});

test('an item carries exactly one of its DER bytes and its id', () => {
  const base = {
    kind: 'cert' as const,
    pinned: false,
    clock: 1,
    origin: new Uint8Array(16),
  };
  const batch = (entry: Record<string, unknown>): Message =>
    ({ type: 'items', id: 1, seq: 0, tombstones: [], items: [entry] }) as unknown as Message;
  for (const entry of [base, { ...base, der: new Uint8Array(3), id: id(2) }]) {
    rejects(encodeMessage(1, batch(entry), L), 'malformed-message', 'der and id rule');
  }
  for (const entry of [
    { ...base, der: new Uint8Array(3) },
    { ...base, id: id(2) },
  ]) {
    const d = decodeFrame(encodeMessage(1, batch(entry), L), L);
    assert.deepEqual(d.kind === 'message' && d.message, batch(entry));
  }
});
