import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { patternFrame, rejectsWithLinkError, runLinkCompliance } from '../compliance.ts';
import { VirtualClock } from '../model/virtual-clock.ts';
import { CreditLink } from './credit-link.ts';
import { CHUNK_VERSION, encodeChunk, packFrames } from './gatt-service.ts';
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
    await pipe.a.write(encodeChunk({ kind: 'hello', seq: 0, version: CHUNK_VERSION, credits: 4 }));
    for (let seq = 1; seq <= 3; seq++) {
      await pipe.a.write(encodeChunk({ kind: 'data', seq, payload: Uint8Array.of(1, 7) }));
    }
    await new Promise((r) => setTimeout(r, 20));
    await rejectsWithLinkError(b.receive(), ['link-error']);
  });

  it('refuses a peer speaking another chunk format version (1, frames in chunks of their own)', async () => {
    const pipe = chunkPipe(40);
    const b = new CreditLink(pipe.b);
    pipe.attach({ onChunk() {}, onDisconnect() {} }, b);
    await pipe.a.write(encodeChunk({ kind: 'hello', seq: 0, version: 1, credits: 4 }));
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
    await pipe.a.write(encodeChunk({ kind: 'hello', seq: 0, version: CHUNK_VERSION, credits: 4 }));
    await rejectsWithLinkError(b.receive(), ['timeout']);
  });

  it('an idle link whose peer is alive outlives the idle timeout by keepalives', async () => {
    // On virtual time, so a busy machine cannot stall the keepalives past the timeout.
    const clock = new VirtualClock();
    const { a, b } = creditLinkPair(40, { keepaliveMs: 10, idleTimeoutMs: 60, clock });
    await new Promise((r) => clock.setTimer(() => r(undefined), 300));
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
    // Frames packed correctly (some over the limit, several to a chunk), credits, and raw
    // junk, in any mix.
    const frame = fc
      .integer({ min: 0, max: 150 })
      .chain((n) => fc.uint8Array({ minLength: n, maxLength: n }));
    const piece = fc.oneof(
      fc.array(frame, { minLength: 1, maxLength: 4 }).map((frames) => ({ frames })),
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
        b.onChunk(encodeChunk({ kind: 'hello', seq: seq++, version: CHUNK_VERSION, credits: 4 }));
        for (const p of pieces) {
          if ('junk' in p) b.onChunk(p.junk);
          else if ('credits' in p)
            b.onChunk(encodeChunk({ kind: 'credit', seq, credits: p.credits }));
          if (!('frames' in p)) {
            seq = (seq + 1) & 0xff;
            continue;
          }
          sent.push(...p.frames);
          const chunks = packFrames(p.frames, 40, seq);
          for (const c of chunks) b.onChunk(encodeChunk(c));
          seq = (seq + chunks.length) & 0xff;
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

describe('frames packed into chunks', () => {
  /** Reads frames until the link ends or fails; returns them and how it ended. */
  const readAll = async (link: CreditLink) => {
    const frames: Uint8Array[] = [];
    try {
      for (let f = await link.receive(); f; f = await link.receive()) frames.push(f);
      return { frames, error: undefined };
    } catch (error) {
      return { frames, error };
    }
  };

  it('frames queued back to back fill whole chunks: 30 frames of 80 bytes in 11, not 30', async () => {
    const { a, b, pipe } = creditLinkPair(244);
    const frames = Array.from({ length: 30 }, (_, i) => patternFrame(20, i, 80));
    const sent = Promise.all(frames.map((f) => a.send(f)));
    for (const f of frames) assert.deepEqual(await b.receive(), f);
    await sent;
    // 30 frames of 1 + 80 stream bytes = 2,430 bytes in payloads of 242: 11 chunks.
    assert.deepEqual(pipe.dataFromA(), { chunks: 11, bytes: 30 * 81 + 11 * 2 });
    await Promise.all([a.close(), b.close()]);
  });

  it('a lone frame leaves at once, in a chunk of its own size', async () => {
    const { a, b, pipe } = creditLinkPair(244);
    await Promise.all([a.ready, b.ready]);
    await a.send(Uint8Array.of(1, 2, 3, 4, 5));
    assert.deepEqual(await b.receive(), Uint8Array.of(1, 2, 3, 4, 5));
    assert.deepEqual(pipe.dataFromA(), { chunks: 1, bytes: 2 + 1 + 5 });
    await Promise.all([a.close(), b.close()]);
  });

  it('a drop inside a frame hands over the whole frames before it, never the cut one', async () => {
    const { a, b, pipe } = creditLinkPair(244);
    // Chunk 0 is the HELLO; chunk 1 carries both small frames whole and the start of the
    // large one; the connection drops as chunk 2 leaves.
    pipe.cutAtFromA(2);
    const frames = [patternFrame(21, 0, 20), patternFrame(21, 1, 20), patternFrame(21, 2, 1000)];
    const sent = Promise.allSettled(frames.map((f) => a.send(f)));
    const got = await readAll(b);
    assert.deepEqual(got.frames, frames.slice(0, 2));
    await rejectsWithLinkError(Promise.reject(got.error), ['link-error']);
    await sent;
    await rejectsWithLinkError(a.receive(), ['link-error']);
  });

  it('a lost chunk inside a packed stream fails the link before any later frame', async () => {
    const { a, b, pipe } = creditLinkPair(244);
    pipe.loseFromA(2);
    const frames = Array.from({ length: 12 }, (_, i) => patternFrame(22, i, 60));
    const sent = Promise.allSettled(frames.map((f) => a.send(f)));
    const got = await readAll(b);
    // Chunk 1 held frames 0 to 3 whole (4 * 61 = 244 > 242 stream bytes: frame 3 is cut).
    assert.deepEqual(got.frames, frames.slice(0, 3));
    await rejectsWithLinkError(Promise.reject(got.error), ['link-error']);
    await sent;
  });

  it('a repeated chunk fails the link and its frames are not handed over twice', async () => {
    const pipe = chunkPipe(40);
    const b = new CreditLink(pipe.b);
    pipe.attach({ onChunk() {}, onDisconnect() {} }, b);
    b.onChunk(encodeChunk({ kind: 'hello', seq: 0, version: CHUNK_VERSION, credits: 4 }));
    const [chunk] = packFrames([Uint8Array.of(1), Uint8Array.of(2)], 40, 1);
    const reading = readAll(b);
    b.onChunk(encodeChunk(chunk!));
    await new Promise((r) => setImmediate(r));
    b.onChunk(encodeChunk(chunk!));
    const got = await reading;
    assert.deepEqual(got.frames, [Uint8Array.of(1), Uint8Array.of(2)]);
    await rejectsWithLinkError(Promise.reject(got.error), ['link-error']);
  });

  it('refuses a CLOSE inside a frame', async () => {
    const pipe = chunkPipe(40);
    const b = new CreditLink(pipe.b);
    pipe.attach({ onChunk() {}, onDisconnect() {} }, b);
    b.onChunk(encodeChunk({ kind: 'hello', seq: 0, version: CHUNK_VERSION, credits: 4 }));
    const [first] = packFrames([new Uint8Array(100)], 40, 1);
    b.onChunk(encodeChunk(first!));
    b.onChunk(encodeChunk({ kind: 'close', seq: 2 }));
    await rejectsWithLinkError(b.receive(), ['link-error']);
  });
});
