import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isCertsyncError } from '../errors.ts';
import { CipherState } from './noise.ts';
import { RECORD, TransportCipher } from './transport.ts';
import type { RecordType, RekeyBound } from './transport.ts';

const key = (byte: number) => new Uint8Array(32).fill(byte);

/** Two ends of one session: a's sending key is b's receiving key and back. */
function ciphers(bound?: RekeyBound, maxFrame = 4096) {
  const state = (k: number) => {
    const c = new CipherState();
    c.initializeKey(key(k));
    return c;
  };
  return {
    a: new TransportCipher({ send: state(1), receive: state(2) }, maxFrame, bound),
    b: new TransportCipher({ send: state(2), receive: state(1) }, maxFrame, bound),
  };
}

const bodies = fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 2, maxLength: 30 });

test('sealed records arrive in order: any replay, reorder, drop or bit flip is refused', () => {
  fc.assert(
    fc.property(
      bodies,
      fc.nat(),
      fc.constantFrom('replay', 'swap', 'drop', 'flip', 'truncate'),
      fc.nat(),
      (records, at, attack, bit) => {
        const { a, b } = ciphers();
        const frames = records.map((r) => a.seal(RECORD.data, r));
        const k = at % (frames.length - 1);
        const wire = frames.slice();
        const target = wire[k] as Uint8Array;
        if (attack === 'replay') wire.splice(k + 1, 0, target);
        if (attack === 'swap') [wire[k], wire[k + 1]] = [wire[k + 1] as Uint8Array, target];
        if (attack === 'drop') wire.splice(k, 1);
        if (attack === 'flip') {
          const copy = target.slice();
          copy[bit % copy.length] = (copy[bit % copy.length] as number) ^ (1 << (bit % 8));
          wire[k] = copy;
        }
        if (attack === 'truncate') wire[k] = target.subarray(0, target.length - 1 - (bit % 8));
        let i = 0;
        try {
          for (; i < wire.length; i++) {
            const record = b.open(wire[i] as Uint8Array);
            assert.deepEqual(record.body, records[i], 'every opened record is the one sent');
          }
        } catch (error) {
          assert.ok(isCertsyncError(error) && error.code === 'decrypt-failed', String(error));
          assert.ok(i >= k, 'frames before the attack opened');
          assert.throws(() => b.open(frames[i + 1] ?? (frames[0] as Uint8Array)), /failed/);
          return;
        }
        assert.fail(`the ${attack} at ${k} went unnoticed`);
      },
    ),
    { numRuns: 300 },
  );
});

test('both sides rotate keys at the same record, for any bound and any traffic', () => {
  fc.assert(
    fc.property(
      fc.record({
        records: fc.integer({ min: 1, max: 8 }),
        bytes: fc.integer({ min: 18, max: 900 }),
      }),
      bodies,
      (bound, records) => {
        const { a, b } = ciphers(bound);
        for (const r of records) {
          assert.deepEqual(b.open(a.seal(RECORD.data, r)).body, r);
          assert.deepEqual(a.open(b.seal(RECORD.data, r)).body, r);
        }
        assert.deepEqual(a.rotations, b.rotations);
        assert.ok(a.rotations.send >= Math.floor(records.length / bound.records));
      },
    ),
    { numRuns: 200 },
  );
});

test('rotation really changes the key: the same record seals differently after it', () => {
  const rotating = ciphers({ records: 1, bytes: 1e9 }).a;
  const steady = ciphers().a;
  const body = new Uint8Array([1, 2, 3]);
  assert.deepEqual(rotating.seal(RECORD.data, body), steady.seal(RECORD.data, body));
  assert.notDeepEqual(rotating.seal(RECORD.data, body), steady.seal(RECORD.data, body));
});

test('frames are bounded on both sides', () => {
  const { a, b } = ciphers(undefined, 100);
  assert.equal(a.maxBody, 100 - 17);
  assert.throws(() => a.seal(RECORD.data, new Uint8Array(84)), RangeError);
  const big = captured(() => b.open(new Uint8Array(101)));
  assert.ok(isCertsyncError(big) && big.code === 'frame-too-large');
  const fresh = { send: new CipherState(), receive: new CipherState() };
  assert.throws(() => new TransportCipher(fresh, 17), RangeError);
});

test('an unknown record type ends the session as malformed', () => {
  const { a, b } = ciphers();
  const sealed = a.seal(9 as RecordType, new Uint8Array(0));
  const error = captured(() => b.open(sealed));
  assert.ok(isCertsyncError(error) && error.code === 'malformed-message');
});

function captured(fn: () => unknown): unknown {
  try {
    fn();
    return null;
  } catch (e) {
    return e;
  }
}
