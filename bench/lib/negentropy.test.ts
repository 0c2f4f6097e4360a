import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  encodeVarint,
  Negentropy,
  NegentropyStorage,
  PROTOCOL_VERSION,
  type NegentropyItem,
} from './negentropy.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Runs a whole reconciliation; returns what the initiator learnt and the rounds it took. */
function reconcile(
  client: NegentropyItem[],
  server: NegentropyItem[],
  frameLimit: number,
): { have: Set<string>; need: Set<string>; rounds: number; largest: number } {
  const c = new Negentropy(new NegentropyStorage(client), frameLimit);
  const s = new Negentropy(new NegentropyStorage(server), frameLimit);
  const have = new Set<string>();
  const need = new Set<string>();
  let msg: Uint8Array | null = c.initiate();
  let rounds = 0;
  let largest = msg.length;
  while (msg !== null) {
    rounds += 1;
    if (rounds > 200) throw new Error('no end after 200 rounds');
    const reply = s.reconcile(msg).output as Uint8Array;
    largest = Math.max(largest, reply.length);
    const step = c.reconcile(reply);
    step.have.forEach((id) => have.add(hex(id)));
    step.need.forEach((id) => need.add(hex(id)));
    msg = step.output;
    if (msg) largest = Math.max(largest, msg.length);
  }
  return { have, need, rounds, largest };
}

/** Items whose timestamps collide often and whose ids share long prefixes. */
const item = fc
  .record({
    timestamp: fc.integer({ min: 0, max: 20 }),
    prefix: fc.integer({ min: 0, max: 3 }),
    tail: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  })
  .map(({ timestamp, prefix, tail }) => {
    const id = tail.slice();
    id.fill(0xab, 0, prefix * 4);
    return { timestamp, id };
  });

function expected(a: NegentropyItem[], b: NegentropyItem[]) {
  const key = (i: NegentropyItem) => `${i.timestamp}:${hex(i.id)}`;
  const inA = new Set(a.map(key));
  const inB = new Set(b.map(key));
  return {
    have: new Set(a.filter((i) => !inB.has(key(i))).map((i) => hex(i.id))),
    need: new Set(b.filter((i) => !inA.has(key(i))).map((i) => hex(i.id))),
  };
}

describe('negentropy (written from the protocol description)', () => {
  it('the initiator learns exactly the symmetric difference, without a frame limit', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(item, { maxLength: 300, selector: (i) => hex(i.id) }),
        fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 300 }),
        (items, owners) => {
          const a = items.filter((_, k) => (owners[k] ?? 0) !== 1);
          const b = items.filter((_, k) => (owners[k] ?? 0) !== 2);
          const got = reconcile(a, b, 0);
          const want = expected(a, b);
          assert.deepEqual(got.have, want.have);
          assert.deepEqual(got.need, want.need);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('the initiator learns exactly the symmetric difference under a 4 KiB frame limit', () => {
    const rng = (seed: number) => () => {
      seed = (seed * 1_103_515_245 + 12_345) >>> 0;
      return seed;
    };
    const next = rng(7);
    const items: NegentropyItem[] = [];
    for (let i = 0; i < 3_000; i++) {
      const id = new Uint8Array(32);
      for (let k = 0; k < 32; k += 4) new DataView(id.buffer).setUint32(k, next());
      items.push({ timestamp: i % 50, id });
    }
    const a = items.filter((_, i) => i % 7 !== 1);
    const b = items.filter((_, i) => i % 7 !== 2 && i % 5 !== 3);
    const got = reconcile(a, b, 4_096);
    const want = expected(a, b);
    assert.deepEqual(got.have, want.have);
    assert.deepEqual(got.need, want.need);
    assert.ok(got.largest <= 4_096, `a message of ${got.largest} bytes`);
    assert.ok(got.rounds > 2, 'the limit should force more rounds');
  });

  it('equal sets end after one round with nothing learnt', () => {
    const items = [1, 2, 3].map((t) => ({ timestamp: t, id: new Uint8Array(32).fill(t) }));
    const got = reconcile(items, items, 0);
    assert.equal(got.rounds, 1);
    assert.equal(got.have.size + got.need.size, 0);
  });

  it('the fingerprint of a range is SHA-256 of the little-endian id sum and count', () => {
    const one = new Uint8Array(32);
    one[0] = 0xff;
    const two = new Uint8Array(32);
    two[0] = 0x02;
    const storage = new NegentropyStorage([
      { timestamp: 1, id: one },
      { timestamp: 2, id: two },
    ]);
    const sum = new Uint8Array(33);
    sum[0] = 0x01; // 0xff + 0x02 = 0x101, little-endian
    sum[1] = 0x01;
    sum[32] = 2; // the varint count
    const want = createHash('sha256').update(sum).digest().subarray(0, 16);
    assert.equal(hex(storage.fingerprint(0, 2)), hex(want));
  });

  it('varints are base 128, most significant digit first', () => {
    assert.deepEqual([...encodeVarint(0)], [0]);
    assert.deepEqual([...encodeVarint(127)], [0x7f]);
    assert.deepEqual([...encodeVarint(128)], [0x81, 0x00]);
    assert.deepEqual([...encodeVarint(16_384)], [0x81, 0x80, 0x00]);
  });

  it('refuses another protocol version, an unknown mode and a short message', () => {
    const n = new Negentropy(new NegentropyStorage([]));
    assert.throws(() => n.reconcile(Uint8Array.of(0x62)), /version/);
    assert.throws(() => n.reconcile(Uint8Array.of(PROTOCOL_VERSION, 0, 0, 3)), /mode 3/);
    assert.throws(() => n.reconcile(Uint8Array.of(PROTOCOL_VERSION, 0, 0, 1, 5)), /ends early/);
    assert.throws(() => new Negentropy(new NegentropyStorage([]), 100), RangeError);
  });
});
