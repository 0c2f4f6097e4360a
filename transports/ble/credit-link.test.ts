import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { patternFrame, rejectsWithLinkError, runLinkCompliance } from '../compliance.ts';
import { CreditLink } from './credit-link.ts';
import { encodeChunk, fragmentFrame } from './gatt-service.ts';
import { chunkPipe, creditLinkPair } from './test-chunk-pipe.ts';

// The framing layer alone, over an in-memory pipe: here the suite's cut is byte-precise
// and instant, which a connection through btvirt cannot offer on demand.
runLinkCompliance('BLE chunk framing over an in-memory pipe', async () => {
  const { a, b, pipe } = creditLinkPair(253, { maxFrameSize: 16384, windowChunks: 32 });
  return {
    a,
    b,
    cut: () => pipe.cut(),
    cleanup: async () => void (await Promise.allSettled([a.close(), b.close()])),
  };
});

runLinkCompliance('BLE chunk framing at the smallest ATT_MTU', async () => {
  const { a, b, pipe } = creditLinkPair(20, { maxFrameSize: 2048, windowChunks: 8 });
  return {
    a,
    b,
    cut: () => pipe.cut(),
    cleanup: async () => void (await Promise.allSettled([a.close(), b.close()])),
  };
});

describe('credit-based flow control', () => {
  it('data chunks in flight never exceed the receiver window, whatever the reader pace', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 16 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 8 }),
        async (lengths, window, pauses) => {
          const { a, b, pipe } = creditLinkPair(40, { maxFrameSize: 3000, windowChunks: window });
          const writer = (async () => {
            for (const [i, n] of lengths.entries()) await a.send(patternFrame(9, i, n));
          })();
          for (const [i, n] of lengths.entries()) {
            for (let p = 0; p < pauses[i % pauses.length]!; p++) {
              await new Promise((r) => setImmediate(r));
            }
            assert.deepEqual(await b.receive(), patternFrame(9, i, n));
          }
          await writer;
          assert.ok(pipe.maxInFlight().ab <= window, `${pipe.maxInFlight().ab} > ${window}`);
          await Promise.all([a.close(), b.close()]);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('a lost chunk fails the link with link-error, never a damaged frame', async () => {
    const { a, b, pipe } = creditLinkPair(40, { maxFrameSize: 4000 });
    pipe.loseFromA(5);
    void a.send(patternFrame(1, 0, 3000)).catch(() => {});
    await rejectsWithLinkError(b.receive(), ['link-error']);
    await rejectsWithLinkError(a.receive(), ['link-error']);
  });

  it('a peer that sends beyond its credits fails the link', async () => {
    const pipe = chunkPipe(40);
    // An unread frame holds every credit back: the window of 2 is all the peer may send.
    const b = new CreditLink(pipe.b, { windowChunks: 2, inboxBytes: 1 });
    pipe.attach({ onChunk() {}, onDisconnect() {} }, b);
    await pipe.a.write(encodeChunk({ kind: 'hello', seq: 0, version: 1, credits: 4 }));
    for (let seq = 1; seq <= 3; seq++) {
      await pipe.a.write(encodeChunk({ kind: 'start', seq, length: 1, payload: Uint8Array.of(7) }));
    }
    await new Promise((r) => setTimeout(r, 20));
    await rejectsWithLinkError(b.receive(), ['link-error']);
  });

  it('refuses a peer speaking another chunk format version', async () => {
    const pipe = chunkPipe(40);
    const b = new CreditLink(pipe.b);
    pipe.attach({ onChunk() {}, onDisconnect() {} }, b);
    await pipe.a.write(encodeChunk({ kind: 'hello', seq: 0, version: 2, credits: 4 }));
    await rejectsWithLinkError(b.ready, ['link-error']);
    await rejectsWithLinkError(b.receive(), ['link-error']);
  });

  it('fails with timeout when the peer never says HELLO', async () => {
    const pipe = chunkPipe(40);
    const b = new CreditLink(pipe.b, { helloTimeoutMs: 20 });
    pipe.attach({ onChunk() {}, onDisconnect() {} }, b);
    await rejectsWithLinkError(b.receive(), ['timeout']);
  });

  it('a connection lost before the CLOSE exchange fails pending calls with link-error', async () => {
    const { a, b, pipe } = creditLinkPair(40);
    await Promise.all([a.ready, b.ready]);
    const pending = b.receive();
    pipe.cut();
    await rejectsWithLinkError(pending, ['link-error']);
    await rejectsWithLinkError(a.send(Uint8Array.of(1)), ['link-error']);
  });

  it('a peer that falls silent fails the link with timeout', async () => {
    const pipe = chunkPipe(40);
    const b = new CreditLink(pipe.b, { keepaliveMs: 10, idleTimeoutMs: 60 });
    pipe.attach({ onChunk() {}, onDisconnect() {} }, b);
    await pipe.a.write(encodeChunk({ kind: 'hello', seq: 0, version: 1, credits: 4 }));
    await rejectsWithLinkError(b.receive(), ['timeout']);
  });

  it('an idle link whose peer is alive outlives the idle timeout by keepalives', async () => {
    const timing = { keepaliveMs: 10, idleTimeoutMs: 60 };
    const { a, b } = creditLinkPair(40, timing);
    await new Promise((r) => setTimeout(r, 300));
    await a.send(Uint8Array.of(1, 2, 3));
    assert.deepEqual(await b.receive(), Uint8Array.of(1, 2, 3));
    await Promise.all([a.close(), b.close()]);
  });

  it('refuses an idle timeout that keepalives cannot meet', () => {
    const pipe = chunkPipe(40);
    assert.throws(
      () => new CreditLink(pipe.a, { keepaliveMs: 50, idleTimeoutMs: 100 }),
      RangeError,
    );
  });

  it('a hostile peer gets only whole frames within the limit through, in order', async () => {
    // Frames fragmented correctly (some over the limit), credits, and raw junk, in any mix.
    const piece = fc.oneof(
      fc
        .integer({ min: 0, max: 150 })
        .chain((n) => fc.uint8Array({ minLength: n, maxLength: n }))
        .map((frame) => ({ frame })),
      fc.integer({ min: 0, max: 0xffff }).map((credits) => ({ credits })),
      fc.uint8Array({ maxLength: 40 }).map((junk) => ({ junk })),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 40 }), async (pieces) => {
        const pipe = chunkPipe(40);
        const b = new CreditLink(pipe.b, { maxFrameSize: 64, windowChunks: 0xffff });
        pipe.attach({ onChunk() {}, onDisconnect() {} }, b);
        const frames: Uint8Array[] = [];
        const reading = (async () => {
          for (let f = await b.receive(); f; f = await b.receive()) frames.push(f);
        })().catch(() => {});
        let seq = 0;
        const sent: Uint8Array[] = [];
        b.onChunk(encodeChunk({ kind: 'hello', seq: seq++, version: 1, credits: 4 }));
        for (const p of pieces) {
          if ('junk' in p) b.onChunk(p.junk);
          else if ('credits' in p)
            b.onChunk(encodeChunk({ kind: 'credit', seq, credits: p.credits }));
          else sent.push(p.frame);
          if (!('frame' in p)) seq = (seq + 1) & 0xff;
          for (const c of 'frame' in p ? fragmentFrame(p.frame, 40, 0) : []) {
            b.onChunk(encodeChunk({ ...c, seq }));
            seq = (seq + 1) & 0xff;
          }
        }
        await new Promise((r) => setImmediate(r));
        b.abort();
        await reading;
        frames.forEach((f, i) => {
          assert.ok(f.length <= 64, `a frame of ${f.length} bytes`);
          assert.deepEqual(f, sent[i], `frame ${i}`);
        });
      }),
      { numRuns: 300 },
    );
  });
});
