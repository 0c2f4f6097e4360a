import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  ChunkFormatError,
  chunkSizeForMtu,
  decodeChunk,
  encodeChunk,
  encodeLength,
  FramePacker,
  fragmentFrame,
  packFrames,
  Reassembler,
  type Chunk,
} from './gatt-service.ts';

const seqArb = fc.integer({ min: 0, max: 255 });
const chunkArb: fc.Arbitrary<Chunk> = fc.oneof(
  fc.record({
    kind: fc.constant('hello' as const),
    seq: seqArb,
    version: fc.integer({ min: 0, max: 255 }),
    credits: fc.integer({ min: 0, max: 0xffff }),
  }),
  fc.record({
    kind: fc.constant('credit' as const),
    seq: seqArb,
    credits: fc.integer({ min: 0, max: 0xffff }),
  }),
  fc.record({ kind: fc.constant('close' as const), seq: seqArb }),
  fc.record({
    kind: fc.constant('data' as const),
    seq: seqArb,
    payload: fc.uint8Array({ minLength: 1, maxLength: 300 }),
  }),
);

const bytesOf = (chunks: Chunk[]) => chunks.map((c) => [...encodeChunk(c)]);
const hex = (s: string) => Uint8Array.from(s.split(' ').map((h) => parseInt(h, 16)));

/** Feeds chunks to a reassembler; returns the frames each chunk completed. */
function reassemble(chunks: Chunk[], maxFrameSize: number, firstSeq = 0): Uint8Array[][] {
  const reassembler = new Reassembler(maxFrameSize);
  for (let i = 0; i < firstSeq; i++) reassembler.checkSeq(i);
  return chunks.map((chunk) => {
    const decoded = decodeChunk(encodeChunk(chunk));
    reassembler.checkSeq(decoded.seq);
    assert.equal(decoded.kind, 'data');
    return reassembler.push(decoded.kind === 'data' ? decoded.payload : new Uint8Array(0));
  });
}

describe('chunk codec', () => {
  it('decode inverts encode for every chunk kind', () => {
    fc.assert(
      fc.property(chunkArb, (chunk) => {
        assert.deepEqual(decodeChunk(encodeChunk(chunk)), { ...chunk });
      }),
    );
  });

  it('refuses unknown kinds, version 1 chunks and chunks of the wrong length', () => {
    const bad = [
      [],
      [0x44],
      [0x44, 0],
      [0x48, 0, 1, 0],
      [0x43, 0, 0],
      [0x45, 0, 0],
      [9, 0],
      // Version 1 START and MORE chunks are not chunks of this format.
      [0x53, 0, 0, 0, 0, 1, 7],
      [0x4d, 1, 7],
    ];
    for (const bytes of bad) {
      assert.throws(() => decodeChunk(Uint8Array.from(bytes)), ChunkFormatError, `${bytes}`);
    }
  });

  it('refuses fields out of range and an empty DATA chunk when encoding', () => {
    assert.throws(() => encodeChunk({ kind: 'close', seq: 256 }), RangeError);
    assert.throws(() => encodeChunk({ kind: 'credit', seq: 0, credits: 0x10000 }), RangeError);
    assert.throws(() => encodeChunk({ kind: 'data', seq: 0, payload: new Uint8Array(0) }), {
      name: 'RangeError',
    });
  });

  it('gives ATT_MTU - 3 bytes per chunk within the ATT limits', () => {
    assert.equal(chunkSizeForMtu(23), 20);
    assert.equal(chunkSizeForMtu(256), 253);
    assert.throws(() => chunkSizeForMtu(22), RangeError);
    assert.throws(() => chunkSizeForMtu(518), RangeError);
  });

  it('writes frame lengths as shortest-form unsigned LEB128', () => {
    assert.deepEqual(encodeLength(0), hex('00'));
    assert.deepEqual(encodeLength(127), hex('7f'));
    assert.deepEqual(encodeLength(128), hex('80 01'));
    assert.deepEqual(encodeLength(300), hex('ac 02'));
    assert.deepEqual(encodeLength(65536), hex('80 80 04'));
    assert.deepEqual(encodeLength(0xffffffff), hex('ff ff ff ff 0f'));
    assert.throws(() => encodeLength(-1), RangeError);
    assert.throws(() => encodeLength(2 ** 32), RangeError);
  });
});

describe('packing frames into chunks', () => {
  it('lays out the example of the format description byte for byte', () => {
    const big = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const chunks = bytesOf(packFrames([hex('aa bb'), hex('cc'), big], 20, 7));
    assert.deepEqual(chunks[0], [0x44, 7, 2, 0xaa, 0xbb, 1, 0xcc, 0xac, 2, ...big.subarray(0, 11)]);
    assert.deepEqual(chunks[1], [0x44, 8, ...big.subarray(11, 29)]);
    // 11 + 16 * 18 = 299 bytes of the big frame in the first 17 chunks, its last byte alone.
    assert.equal(chunks.length, 18);
    assert.deepEqual(chunks[17], [0x44, 24, big[299]]);
  });

  it('carries several small frames whole in one chunk', () => {
    const frames = Array.from({ length: 10 }, (_, i) => new Uint8Array(20).fill(i));
    const chunks = packFrames(frames, 244, 0);
    assert.equal(chunks.length, 1, 'ten frames of 21 stream bytes fit one chunk of 242');
    assert.equal(encodeChunk(chunks[0]!).length, 2 + 10 * 21);
    assert.deepEqual(reassemble(chunks, 100), [frames]);
  });

  it('splits a frame across chunks and hands it over at the chunk with its last byte', () => {
    const frames = [new Uint8Array(30).fill(1), new Uint8Array(5).fill(2), new Uint8Array(3)];
    // Stream: 1 + 30, 1 + 5, 1 + 3 = 41 bytes in payloads of 18: 18, 18, 5.
    const chunks = packFrames(frames, 20, 0);
    assert.deepEqual(
      chunks.map((c) => (c.kind === 'data' ? c.payload.length : -1)),
      [18, 18, 5],
    );
    const got = reassemble(chunks, 100);
    assert.deepEqual(got, [[], [frames[0]], [frames[1], frames[2]]]);
  });

  it('reads a length cut between two chunks', () => {
    const frame = new Uint8Array(200).fill(9);
    const reassembler = new Reassembler(1000);
    assert.deepEqual(reassembler.push(Uint8Array.of(0x05, 1, 2, 3, 4, 5, 0xc8)), [
      Uint8Array.of(1, 2, 3, 4, 5),
    ]);
    assert.equal(reassembler.midFrame, true, 'inside a length');
    assert.deepEqual(reassembler.push(Uint8Array.of(0x01, ...frame)), [frame]);
    assert.equal(reassembler.midFrame, false);
  });

  it('packs any frames into full chunks and gives them back in order, chunks within the MTU', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc
            .integer({ min: 0, max: 700 })
            .chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
          { maxLength: 20 },
        ),
        fc.integer({ min: 23, max: 517 }),
        seqArb,
        (frames, mtu, firstSeq) => {
          const size = chunkSizeForMtu(mtu);
          const chunks = packFrames(frames, size, firstSeq);
          const stream = frames.reduce((s, f) => s + encodeLength(f.length).length + f.length, 0);
          assert.equal(chunks.length, Math.ceil(stream / (size - 2)), 'no chunk left part empty');
          chunks.forEach((chunk, i) => {
            const length = encodeChunk(chunk).length;
            assert.ok(length <= size, `chunk of ${length} bytes over ${size}`);
            if (i < chunks.length - 1) assert.equal(length, size, `chunk ${i} is full`);
          });
          assert.deepEqual(reassemble(chunks, 700, firstSeq).flat(), frames);
        },
      ),
    );
  });

  it('takes the next frame only when a payload has room for some of it', () => {
    const packer = new FramePacker();
    const queue = [new Uint8Array(10), new Uint8Array(10)];
    let asked = 0;
    const next = () => (asked++, queue.shift());
    assert.equal(packer.fill(11, next)?.length, 11);
    assert.equal(asked, 1, 'the first frame filled the payload exactly');
    assert.equal(packer.midFrame, false);
    assert.equal(packer.fill(5, next)?.length, 5);
    assert.equal(packer.midFrame, true);
    assert.equal(packer.fill(100, next)?.length, 6, 'what is queued, without waiting for more');
    assert.equal(packer.fill(100, next), undefined);
  });

  it('carries an empty frame as its length byte alone', () => {
    const chunks = fragmentFrame(new Uint8Array(0), 20, 7);
    assert.deepEqual(bytesOf(chunks), [[0x44, 7, 0]]);
    assert.deepEqual(reassemble(chunks, 10, 7), [[new Uint8Array(0)]]);
  });
});

describe('reassembly refusals', () => {
  it('detects a lost chunk and a repeated chunk by the sequence number', () => {
    const chunks = packFrames([new Uint8Array(100)], 20, 0);
    const lost = new Reassembler(1000);
    lost.checkSeq(chunks[0]!.seq);
    assert.throws(() => lost.checkSeq(chunks[2]!.seq), /expected chunk 1, got 2/);
    const repeated = new Reassembler(1000);
    repeated.checkSeq(chunks[0]!.seq);
    repeated.checkSeq(chunks[1]!.seq);
    assert.throws(() => repeated.checkSeq(chunks[1]!.seq), /expected chunk 2, got 1/);
  });

  it('refuses a length over the limit as soon as it is read, before the bytes come', () => {
    assert.throws(() => new Reassembler(100).push(Uint8Array.of(101)), /over the limit of 100/);
    assert.throws(() => new Reassembler(300).push(hex('ad 02')), /frame of 301 bytes/);
    const after = new Reassembler(100);
    assert.throws(() => after.push(Uint8Array.of(1, 7, 0x80, 0x10)), /over the limit/);
  });

  it('refuses lengths not in shortest form, of more than 5 bytes, and empty payloads', () => {
    assert.throws(() => new Reassembler(100).push(hex('81 00')), /shortest form/);
    assert.throws(() => new Reassembler(2 ** 32 - 1).push(hex('ff ff ff ff ff')), /5 bytes/);
    assert.throws(() => new Reassembler(100).push(new Uint8Array(0)), /no stream bytes/);
  });

  it('knows when the stream is inside a frame', () => {
    const r = new Reassembler(100);
    assert.equal(r.midFrame, false);
    r.push(Uint8Array.of(10, 1, 2, 3));
    assert.equal(r.midFrame, true);
    assert.deepEqual(r.push(new Uint8Array(7)), [Uint8Array.of(1, 2, 3, 0, 0, 0, 0, 0, 0, 0)]);
    assert.equal(r.midFrame, false);
  });
});
