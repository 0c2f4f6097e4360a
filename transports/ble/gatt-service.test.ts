import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  chunkCount,
  ChunkFormatError,
  chunkSizeForMtu,
  decodeChunk,
  encodeChunk,
  fragmentFrame,
  Reassembler,
  type Chunk,
} from './gatt-service.ts';

const chunkArb: fc.Arbitrary<Chunk> = fc.oneof(
  fc.record({
    kind: fc.constant('hello' as const),
    seq: fc.integer({ min: 0, max: 255 }),
    version: fc.integer({ min: 0, max: 255 }),
    credits: fc.integer({ min: 0, max: 0xffff }),
  }),
  fc.record({
    kind: fc.constant('credit' as const),
    seq: fc.integer({ min: 0, max: 255 }),
    credits: fc.integer({ min: 0, max: 0xffff }),
  }),
  fc.record({ kind: fc.constant('close' as const), seq: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    kind: fc.constant('start' as const),
    seq: fc.integer({ min: 0, max: 255 }),
    length: fc.nat(),
    payload: fc.uint8Array({ maxLength: 300 }),
  }),
  fc.record({
    kind: fc.constant('more' as const),
    seq: fc.integer({ min: 0, max: 255 }),
    payload: fc.uint8Array({ maxLength: 300 }),
  }),
);

describe('chunk codec', () => {
  it('decode inverts encode for every chunk kind', () => {
    fc.assert(
      fc.property(chunkArb, (chunk) => {
        assert.deepEqual(decodeChunk(encodeChunk(chunk)), { ...chunk });
      }),
    );
  });

  it('refuses unknown kinds and chunks of the wrong length', () => {
    const bad = [[], [0x53], [0x53, 0, 0, 0], [0x48, 0, 1, 0], [0x43, 0, 0], [0x45, 0, 0], [9, 0]];
    for (const bytes of bad) {
      assert.throws(() => decodeChunk(Uint8Array.from(bytes)), ChunkFormatError, `${bytes}`);
    }
  });

  it('refuses fields out of range when encoding', () => {
    assert.throws(() => encodeChunk({ kind: 'close', seq: 256 }), RangeError);
    assert.throws(() => encodeChunk({ kind: 'credit', seq: 0, credits: 0x10000 }), RangeError);
  });

  it('gives ATT_MTU - 3 bytes per chunk within the ATT limits', () => {
    assert.equal(chunkSizeForMtu(23), 20);
    assert.equal(chunkSizeForMtu(256), 253);
    assert.throws(() => chunkSizeForMtu(22), RangeError);
    assert.throws(() => chunkSizeForMtu(518), RangeError);
  });
});

describe('fragmentation', () => {
  it('reassembling the fragments of any frame gives the frame back, chunks within the MTU', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 0, max: 5000 })
          .chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
        fc.integer({ min: 23, max: 517 }),
        fc.integer({ min: 0, max: 255 }),
        (frame, mtu, firstSeq) => {
          const size = chunkSizeForMtu(mtu);
          const chunks = fragmentFrame(frame, size, firstSeq);
          assert.equal(chunks.length, chunkCount(frame.length, size));
          const reassembler = new Reassembler(5000);
          for (let i = 0; i < firstSeq; i++) reassembler.checkSeq(i);
          let out: Uint8Array | undefined;
          chunks.forEach((chunk, i) => {
            const bytes = encodeChunk(chunk);
            assert.ok(bytes.length <= size, `chunk of ${bytes.length} bytes over ${size}`);
            const decoded = decodeChunk(bytes);
            reassembler.checkSeq(decoded.seq);
            out = reassembler.push(decoded);
            assert.equal(out !== undefined, i === chunks.length - 1, `chunk ${i} completes`);
          });
          assert.deepEqual(out, frame);
        },
      ),
    );
  });

  it('detects a lost chunk by its sequence number', () => {
    const chunks = fragmentFrame(new Uint8Array(100), 20, 0);
    const reassembler = new Reassembler(1000);
    reassembler.checkSeq(chunks[0]!.seq);
    reassembler.push(chunks[0]!);
    assert.throws(() => reassembler.checkSeq(chunks[2]!.seq), /expected chunk 1, got 2/);
  });

  it('refuses frames over the limit, overlong frames and chunks out of place', () => {
    const r = () => new Reassembler(100);
    const start = (length: number, n: number): Chunk => ({
      kind: 'start',
      seq: 0,
      length,
      payload: new Uint8Array(n),
    });
    const more = (n: number): Chunk => ({ kind: 'more', seq: 0, payload: new Uint8Array(n) });
    assert.throws(() => r().push(start(101, 0)), /over the limit of 100/);
    assert.throws(() => r().push(more(1)), /never started/);
    assert.throws(() => r().push(start(3, 4)), /longer than the 3 bytes/);
    const open = r();
    open.push(start(10, 4));
    assert.equal(open.midFrame, true);
    assert.throws(() => open.push(start(10, 4)), /started before the last one ended/);
    const over = r();
    over.push(start(10, 4));
    assert.throws(() => over.push(more(7)), /longer than the 10 bytes/);
    assert.throws(() => r().push({ kind: 'close', seq: 0 }), /expected a data chunk/);
  });

  it('carries an empty frame as one START chunk', () => {
    const chunks = fragmentFrame(new Uint8Array(0), 20, 7);
    assert.equal(chunks.length, 1);
    const reassembler = new Reassembler(10);
    assert.deepEqual(reassembler.push(decodeChunk(encodeChunk(chunks[0]!))), new Uint8Array(0));
  });
});
