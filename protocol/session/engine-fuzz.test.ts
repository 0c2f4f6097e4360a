import assert from 'node:assert/strict';
import test from 'node:test';

import fc from 'fast-check';

import { isErrorCode } from '../errors.ts';
import { anyMessage } from '../messages/arbitraries.ts';
import type { Message } from '../messages/catalog.ts';
import { decodeFrame, encodeMessage } from '../messages/codec.ts';
import { DEFAULT_LIMITS } from '../wire/limits.ts';
import { exchange, Side, testConfig } from './harness.ts';
import { MemoryStore } from './memory-store.ts';

const L = DEFAULT_LIMITS;

/** A frame from a hostile or buggy peer: a valid message, a mutated one, or noise. */
const peerFrame: fc.Arbitrary<Uint8Array> = fc.oneof(
  anyMessage().map((m) => encodeMessage(1, m, L)),
  anyMessage().chain((m) => {
    const bytes = encodeMessage(1, m, L);
    return fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 })).map(([i, b]) => {
      const copy = Uint8Array.from(bytes);
      copy[i] = b;
      return copy;
    });
  }),
  fc.uint8Array({ maxLength: 64 }),
);

function readySide(): Side {
  const store = new MemoryStore(3, 'alert');
  for (let i = 1; i <= 3; i++) {
    const der = Uint8Array.of(0x30, 0x03, 0x02, 0x01, i);
    store.put({ kind: 'cert', der, pinned: false, clock: i, origin: new Uint8Array(16) });
  }
  const a = new Side('a', testConfig(), { store });
  const b = new Side('b', testConfig(), { store: new MemoryStore() });
  a.feed({ kind: 'start', now: 0 });
  b.feed({ kind: 'start', now: 0 });
  exchange(a, b, 0);
  return a;
}

test('a session fed any frames never throws: it answers, or ends with one fatal error', () => {
  fc.assert(
    fc.property(fc.array(peerFrame, { minLength: 1, maxLength: 12 }), (frames) => {
      const a = readySide();
      for (const [i, frame] of frames.entries()) {
        a.feed({ kind: 'frame', now: 10 + i, frame });
        if (a.state.phase === 'closed') break;
      }
      const sent: Message[] = a.outbox.map((f) => {
        const d = decodeFrame(f, L);
        assert.equal(d.kind, 'message');
        return (d as { message: Message }).message;
      });
      const fatal = sent.filter((m) => m.type === 'error' && m.fatal);
      if (a.state.phase !== 'closed') {
        assert.equal(fatal.length, 0);
        return;
      }
      const close = a.seen('close');
      assert.equal(close.length, 1);
      const code = close[0]?.error?.code;
      assert.ok(code === undefined || isErrorCode(code));
      // Closed by our own verdict: exactly one fatal error, and it is the last frame sent.
      if (fatal.length > 0) {
        assert.equal(fatal.length, 1);
        assert.equal(sent.at(-1), fatal[0]);
      }
    }),
    { numRuns: 400 },
  );
});
