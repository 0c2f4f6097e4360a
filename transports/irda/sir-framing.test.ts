import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { encodeSirFrame, SirDecoder, sirEncodedMax } from './sir-framing.ts';

test('SIR framing escapes BOF, EOF and the escape byte, and appends the FCS LSB first', () => {
  const encoded = encodeSirFrame(Uint8Array.from([0xc0, 0x7d, 0xc1, 0x01]), 2);
  assert.deepEqual([...encoded.subarray(0, 3)], [0xff, 0xff, 0xc0]);
  assert.deepEqual([...encoded.subarray(3, 9)], [0x7d, 0xe0, 0x7d, 0x5d, 0x7d, 0xe1]);
  assert.equal(encoded.at(-1), 0xc1);
});

test('SIR decode of encode is the identity, across any split of the byte stream', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ minLength: 2, maxLength: 300 }), { minLength: 1, maxLength: 5 }),
      fc.nat(),
      (frames, cut) => {
        const stream = Buffer.concat(frames.map((f) => encodeSirFrame(f)));
        const at = cut % (stream.length + 1);
        const decoder = new SirDecoder(300);
        const out = [...decoder.push(stream.subarray(0, at)), ...decoder.push(stream.subarray(at))];
        assert.deepEqual(out, frames);
        for (const f of frames) assert.ok(encodeSirFrame(f).length <= sirEncodedMax(f.length));
      },
    ),
  );
});

test('SIR: any single flipped bit is caught by the FCS or the framing, never passed on', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 2, maxLength: 200 }), fc.nat(), (frame, pick) => {
      const encoded = encodeSirFrame(frame);
      const bit = pick % (encoded.length * 8);
      encoded[bit >> 3]! ^= 1 << (bit & 7);
      const out = new SirDecoder(200).push(encoded);
      for (const f of out) assert.notDeepEqual(f, frame);
    }),
  );
});

test('SIR: a frame that is too long or aborted is reported bad, then decoding resumes', () => {
  const decoder = new SirDecoder(8);
  const long = encodeSirFrame(new Uint8Array(20).fill(1));
  const aborted = Uint8Array.from([0xc0, 1, 2, 0x7d, 0xc1]);
  const good = encodeSirFrame(Uint8Array.from([5, 6, 7]));
  assert.deepEqual(decoder.push(Buffer.concat([long, aborted, good])), [
    'bad',
    'bad',
    Uint8Array.from([5, 6, 7]),
  ]);
});
