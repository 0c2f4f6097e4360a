import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { cobsDecode, cobsEncode, cobsMaxEncodedLength } from './cobs.ts';

test('COBS examples from the paper and its boundary cases', () => {
  const cases: [number[], number[]][] = [
    [[], [0x01]],
    [[0x00], [0x01, 0x01]],
    [
      [0x00, 0x00],
      [0x01, 0x01, 0x01],
    ],
    [
      [0x11, 0x22, 0x00, 0x33],
      [0x03, 0x11, 0x22, 0x02, 0x33],
    ],
    [
      [0x11, 0x00, 0x00, 0x00],
      [0x02, 0x11, 0x01, 0x01, 0x01],
    ],
  ];
  for (const [data, encoded] of cases) {
    assert.deepEqual([...cobsEncode(Uint8Array.from(data))], encoded);
    assert.deepEqual([...cobsDecode(Uint8Array.from(encoded))!], data);
  }
  const run = new Uint8Array(254).fill(7);
  assert.equal(cobsEncode(run).length, 256);
  assert.equal(cobsEncode(run)[0], 0xff);
});

test('COBS decode of encode is the identity, with no zero byte and bounded growth', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2000 }), (data) => {
      const encoded = cobsEncode(data);
      assert.ok(!encoded.includes(0));
      assert.ok(encoded.length <= cobsMaxEncodedLength(data.length));
      assert.deepEqual(cobsDecode(encoded), data);
    }),
  );
});

test('COBS decode refuses a zero byte and a block past the end', () => {
  assert.equal(cobsDecode(Uint8Array.from([0x03, 0x11, 0x00])), undefined);
  assert.equal(cobsDecode(Uint8Array.from([0x05, 0x11])), undefined);
});
