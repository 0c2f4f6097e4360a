/**
 * The certsync GATT service and the chunk format its two characteristics carry.
 *
 * A certsync frame rarely fits in one ATT packet, so each direction cuts frames into
 * chunks of at most `ATT_MTU - 3` bytes (the ATT opcode and handle take 3 bytes of a
 * Write Command or Handle Value Notification; Bluetooth Core 5.3, Vol 3, Part F, 3.4.5.3
 * and 3.4.7.1). Both PDUs are unacknowledged, so the receiver paces the sender with
 * credits counted in data chunks: a sender never has more chunks in flight than the
 * receiver granted, which keeps a burst from overrunning a controller's buffers (an
 * emulated controller drops packets silently when its client's buffer is full).
 *
 * Every chunk starts with a kind byte and a sequence byte. The sequence counts all chunks
 * of one direction modulo 256, so a lost or reordered chunk is detected and the link
 * fails instead of handing over a damaged frame.
 *
 *   HELLO  'H' seq version credits:u16     first chunk each way; grants the first credits
 *   START  'S' seq length:u32 payload...   first chunk of a frame; costs one credit
 *   MORE   'M' seq payload...              a following chunk of a frame; costs one credit
 *   CREDIT 'C' seq credits:u16             the receiver grants more data chunks
 *   CLOSE  'E' seq                         clean end: no more frames this way
 *
 * Integers are big-endian. This module is pure: no I/O, no timers.
 */

/** 128-bit UUID of the certsync primary service, as noble and bleno spell it. */
export const SERVICE_UUID = '6c5e0b4f3c9a4d2e9c1f5a7e2d8b0c10';
/** Characteristic the central writes to without response (central to peripheral). */
export const TO_PERIPHERAL_UUID = '6c5e0b4f3c9a4d2e9c1f5a7e2d8b0c11';
/** Characteristic the peripheral notifies on (peripheral to central). */
export const TO_CENTRAL_UUID = '6c5e0b4f3c9a4d2e9c1f5a7e2d8b0c12';

/** The chunk format's version, sent in HELLO; a peer with another version is refused. */
export const CHUNK_VERSION = 1;
/** Smallest ATT_MTU (Core 5.3, Vol 3, Part F, 3.2.8): 20 bytes of value per packet. */
export const MIN_ATT_MTU = 23;
/** Bytes of an ATT Write Command or Notification that are not the value. */
export const ATT_HEADER_BYTES = 3;
/** Bytes a START chunk spends before its payload: kind, sequence, frame length. */
export const START_HEADER_BYTES = 6;
/** Bytes a MORE chunk spends before its payload: kind, sequence. */
export const MORE_HEADER_BYTES = 2;

/** The kinds of chunk, by their first byte. */
export const ChunkKind = {
  hello: 0x48,
  start: 0x53,
  more: 0x4d,
  credit: 0x43,
  close: 0x45,
} as const;

/** A decoded chunk. `seq` is the sequence byte it carried. */
export type Chunk =
  | { kind: 'hello'; seq: number; version: number; credits: number }
  | { kind: 'start'; seq: number; length: number; payload: Uint8Array }
  | { kind: 'more'; seq: number; payload: Uint8Array }
  | { kind: 'credit'; seq: number; credits: number }
  | { kind: 'close'; seq: number };

/** Thrown for a chunk or chunk sequence that breaks the format; the link then fails. */
export class ChunkFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChunkFormatError';
  }
}

/** The largest chunk, in bytes, that fits one ATT packet at `attMtu`. */
export function chunkSizeForMtu(attMtu: number): number {
  if (!Number.isInteger(attMtu) || attMtu < MIN_ATT_MTU || attMtu > 517) {
    throw new RangeError(`expected attMtu an integer in ${MIN_ATT_MTU}..517, got ${attMtu}`);
  }
  return attMtu - ATT_HEADER_BYTES;
}

/** Encodes one chunk. Throws RangeError for a field out of range. */
export function encodeChunk(chunk: Chunk): Uint8Array {
  const byte = (name: string, v: number, max: number) => {
    if (!Number.isInteger(v) || v < 0 || v > max) {
      throw new RangeError(`expected ${name} an integer in 0..${max}, got ${v}`);
    }
  };
  byte('seq', chunk.seq, 0xff);
  switch (chunk.kind) {
    case 'hello': {
      byte('version', chunk.version, 0xff);
      byte('credits', chunk.credits, 0xffff);
      const out = new Uint8Array(5);
      out.set([ChunkKind.hello, chunk.seq, chunk.version, chunk.credits >> 8, chunk.credits]);
      return out;
    }
    case 'credit': {
      byte('credits', chunk.credits, 0xffff);
      return Uint8Array.of(ChunkKind.credit, chunk.seq, chunk.credits >> 8, chunk.credits & 0xff);
    }
    case 'close':
      return Uint8Array.of(ChunkKind.close, chunk.seq);
    case 'start': {
      byte('length', chunk.length, 0xffffffff);
      const out = new Uint8Array(START_HEADER_BYTES + chunk.payload.length);
      out[0] = ChunkKind.start;
      out[1] = chunk.seq;
      new DataView(out.buffer).setUint32(2, chunk.length);
      out.set(chunk.payload, START_HEADER_BYTES);
      return out;
    }
    case 'more': {
      const out = new Uint8Array(MORE_HEADER_BYTES + chunk.payload.length);
      out[0] = ChunkKind.more;
      out[1] = chunk.seq;
      out.set(chunk.payload, MORE_HEADER_BYTES);
      return out;
    }
  }
}

/**
 * Decodes one chunk. Payloads are views into `bytes`.
 *
 * @throws ChunkFormatError for an unknown kind or a chunk of the wrong length
 */
export function decodeChunk(bytes: Uint8Array): Chunk {
  if (bytes.length < 2) throw new ChunkFormatError(`chunk of ${bytes.length} bytes is too short`);
  const kind = bytes[0]!;
  const seq = bytes[1]!;
  const exact = (n: number, name: string) => {
    if (bytes.length !== n) {
      throw new ChunkFormatError(`${name} chunk must be ${n} bytes, got ${bytes.length}`);
    }
  };
  switch (kind) {
    case ChunkKind.hello:
      exact(5, 'HELLO');
      return { kind: 'hello', seq, version: bytes[2]!, credits: (bytes[3]! << 8) | bytes[4]! };
    case ChunkKind.credit:
      exact(4, 'CREDIT');
      return { kind: 'credit', seq, credits: (bytes[2]! << 8) | bytes[3]! };
    case ChunkKind.close:
      exact(2, 'CLOSE');
      return { kind: 'close', seq };
    case ChunkKind.start: {
      if (bytes.length < START_HEADER_BYTES) {
        throw new ChunkFormatError(`START chunk of ${bytes.length} bytes has no length`);
      }
      const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(2);
      return { kind: 'start', seq, length, payload: bytes.subarray(START_HEADER_BYTES) };
    }
    case ChunkKind.more:
      return { kind: 'more', seq, payload: bytes.subarray(MORE_HEADER_BYTES) };
    default:
      throw new ChunkFormatError(`unknown chunk kind 0x${kind.toString(16).padStart(2, '0')}`);
  }
}

/**
 * Cuts `frame` into the data chunks that carry it, each at most `chunkSize` bytes, with
 * sequence numbers from `firstSeq` on. An empty frame is one START chunk.
 */
export function fragmentFrame(frame: Uint8Array, chunkSize: number, firstSeq: number): Chunk[] {
  if (!Number.isInteger(chunkSize) || chunkSize <= START_HEADER_BYTES) {
    throw new RangeError(`expected chunkSize an integer > ${START_HEADER_BYTES}, got ${chunkSize}`);
  }
  const chunks: Chunk[] = [];
  let seq = firstSeq & 0xff;
  const head = Math.min(frame.length, chunkSize - START_HEADER_BYTES);
  chunks.push({ kind: 'start', seq, length: frame.length, payload: frame.subarray(0, head) });
  for (let at = head; at < frame.length; at += chunkSize - MORE_HEADER_BYTES) {
    seq = (seq + 1) & 0xff;
    const end = Math.min(frame.length, at + chunkSize - MORE_HEADER_BYTES);
    chunks.push({ kind: 'more', seq, payload: frame.subarray(at, end) });
  }
  return chunks;
}

/** How many data chunks {@link fragmentFrame} makes of a frame of `length` bytes. */
export function chunkCount(length: number, chunkSize: number): number {
  const rest = Math.max(0, length - (chunkSize - START_HEADER_BYTES));
  return 1 + Math.ceil(rest / (chunkSize - MORE_HEADER_BYTES));
}

/**
 * Puts frames back together from data chunks of one direction, checking the sequence,
 * the announced length and the size limit. Holds at most one partial frame.
 */
export class Reassembler {
  readonly #maxFrameSize: number;
  #nextSeq = 0;
  #frame: Uint8Array | undefined;
  #filled = 0;

  /** @param maxFrameSize the largest frame the peer may announce */
  constructor(maxFrameSize: number) {
    this.#maxFrameSize = maxFrameSize;
  }

  /** True while a frame has started and not all of its bytes arrived. */
  get midFrame(): boolean {
    return this.#frame !== undefined;
  }

  /**
   * Checks the sequence byte of any chunk of this direction, control chunks included.
   *
   * @throws ChunkFormatError when a chunk was lost or repeated
   */
  checkSeq(seq: number): void {
    if (seq !== this.#nextSeq) {
      throw new ChunkFormatError(`expected chunk ${this.#nextSeq}, got ${seq}: chunks were lost`);
    }
    this.#nextSeq = (this.#nextSeq + 1) & 0xff;
  }

  /**
   * Takes a START or MORE chunk (already sequence-checked); returns the frame it completes.
   *
   * @throws ChunkFormatError for a frame over the limit, a START inside a frame, a MORE
   *   outside one, or more bytes than the START announced
   */
  push(chunk: Chunk): Uint8Array | undefined {
    if (chunk.kind === 'start') {
      if (this.#frame) throw new ChunkFormatError('a frame started before the last one ended');
      if (chunk.length > this.#maxFrameSize) {
        throw new ChunkFormatError(
          `peer announced a frame of ${chunk.length} bytes, over the limit of ${this.#maxFrameSize}`,
        );
      }
      this.#frame = new Uint8Array(chunk.length);
      this.#filled = 0;
    } else if (chunk.kind !== 'more') {
      throw new ChunkFormatError(`expected a data chunk, got ${chunk.kind}`);
    } else if (!this.#frame) {
      throw new ChunkFormatError('a frame continued that never started');
    }
    const frame = this.#frame;
    if (this.#filled + chunk.payload.length > frame.length) {
      throw new ChunkFormatError(`frame longer than the ${frame.length} bytes announced`);
    }
    frame.set(chunk.payload, this.#filled);
    this.#filled += chunk.payload.length;
    if (this.#filled < frame.length) return undefined;
    this.#frame = undefined;
    return frame;
  }
}
