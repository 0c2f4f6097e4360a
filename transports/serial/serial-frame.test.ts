import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  encodeSerialFrame,
  MAX_SEGMENT_BYTES,
  SerialFrameDecoder,
  type SerialFrame,
} from './serial-frame.ts';

const dataFrame = fc.record({
  kind: fc.constant('data' as const),
  seq: fc.integer({ min: 0, max: 0xffff }),
  ack: fc.integer({ min: 0, max: 0xffff }),
  window: fc.integer({ min: 0, max: 255 }),
  end: fc.boolean(),
  fin: fc.boolean(),
  payload: fc.uint8Array({ maxLength: 600 }),
});
const ackFrame = fc.record({
  kind: fc.constant('ack' as const),
  ack: fc.integer({ min: 0, max: 0xffff }),
  window: fc.integer({ min: 0, max: 255 }),
  sack: fc.integer({ min: 0, max: 0xffffffff }),
});

test('serial frames decode to what was encoded, however the bytes are split', () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(dataFrame, ackFrame), { maxLength: 6 }),
      fc.nat(),
      (frames, cut) => {
        const bytes = Buffer.concat(frames.map((f) => encodeSerialFrame(f as SerialFrame)));
        const at = cut % (bytes.length + 1);
        const decoder = new SerialFrameDecoder();
        const out = [...decoder.push(bytes.subarray(0, at)), ...decoder.push(bytes.subarray(at))];
        assert.deepEqual(
          out,
          frames.map((f) => ({ ...f })),
        );
      },
    ),
  );
});

test('a damaged serial frame is reported bad and the next one still decodes', () => {
  fc.assert(
    fc.property(dataFrame, fc.nat(), (frame, pick) => {
      const damaged = encodeSerialFrame(frame);
      const bit = pick % ((damaged.length - 1) * 8);
      damaged[bit >> 3]! ^= 1 << (bit & 7);
      const next: SerialFrame = { kind: 'ack', ack: 1, window: 2, sack: 3 };
      const out = new SerialFrameDecoder().push(Buffer.concat([damaged, encodeSerialFrame(next)]));
      assert.deepEqual(out.at(-1), next);
      for (const f of out.slice(0, -1)) assert.equal(f, 'bad');
    }),
  );
});

test('hostile input: endless bytes without a delimiter stay bounded and count as one bad frame', () => {
  const decoder = new SerialFrameDecoder();
  for (let i = 0; i < 100; i++)
    assert.deepEqual(decoder.push(new Uint8Array(MAX_SEGMENT_BYTES).fill(7)), []);
  assert.deepEqual(decoder.push(Uint8Array.from([0])), ['bad']);
});
