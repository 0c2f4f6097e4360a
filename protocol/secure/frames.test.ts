import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isCertsyncError } from '../errors.ts';
import { decodeHandshakeFrame, encodeAbortFrame, encodeHandshakeFrame } from './frames.ts';
import type { HandshakeMode } from './frames.ts';

const modes: HandshakeMode[] = ['pair', 'pair-secret', 'session-ik', 'session-xx'];

test('handshake and abort frames decode to what was encoded', () => {
  for (const mode of modes) {
    const decoded = decodeHandshakeFrame(encodeHandshakeFrame(mode, new Uint8Array([1, 2])));
    assert.deepEqual(decoded, { kind: 'handshake', mode, message: new Uint8Array([1, 2]) });
  }
  assert.deepEqual(decodeHandshakeFrame(encodeAbortFrame('not-paired')), {
    kind: 'abort',
    code: 'not-paired',
  });
});

test('decoding arbitrary bytes gives a frame or a protocol error, never anything else', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      try {
        decodeHandshakeFrame(bytes);
      } catch (error) {
        assert.ok(isCertsyncError(error), String(error));
        assert.ok(['malformed-message', 'frame-too-large'].includes(error.code));
      }
    }),
  );
  const error = (() => {
    try {
      return decodeHandshakeFrame(new Uint8Array(65538));
    } catch (e) {
      return e;
    }
  })();
  assert.ok(isCertsyncError(error) && error.code === 'frame-too-large');
});
