/**
 * The certsync GATT service and the chunk format its two characteristics carry.
 *
 * Each direction sends chunks of at most `ATT_MTU - 3` bytes, one per ATT packet (the ATT
 * opcode and handle take 3 bytes of a Write Command or Handle Value Notification; Bluetooth
 * Core 5.3, Vol 3, Part F, 3.4.5.3 and 3.4.7.1). Both PDUs are unacknowledged, so the
 * receiver paces the sender with credits counted in DATA chunks: a sender never has more
 * DATA chunks in flight than the receiver granted, which keeps a burst from overrunning a
 * controller's buffers (an emulated controller drops packets silently when its client's
 * buffer is full).
 *
 * Chunk format, version 2. Every chunk starts with a kind byte and a sequence byte. The
 * sequence counts all chunks of one direction modulo 256, from 0 for the HELLO, so a lost,
 * repeated or reordered chunk is detected and the link fails instead of handing over a
 * damaged frame.
 *
 *   HELLO  0x48 seq version:u8 credits:u16   5 bytes; first chunk each way, grants credits
 *   DATA   0x44 seq stream...                 3 to ATT_MTU - 3 bytes; costs one credit
 *   CREDIT 0x43 seq credits:u16              4 bytes; the receiver grants more DATA chunks
 *   CLOSE  0x45 seq                          2 bytes; clean end, no more frames this way
 *
 * u16 is big-endian. A chunk of any other length or kind breaks the format. Credits add up:
 * the HELLO's credits and those of every later CREDIT are how many DATA chunks the other
 * side may send in all; a CREDIT of 0 grants nothing and serves as a keepalive.
 *
 * The stream. The bytes after the first two of every DATA chunk of one direction, in
 * sequence order, form one byte stream. The stream is the frames of that direction end to
 * end, each as its length followed by its bytes. The length is unsigned LEB128: 7 bits per
 * byte, least significant group first, the high bit set on every byte but the last; 1 to
 * 5 bytes, always the shortest form (a last byte of 0x00 after the first byte breaks the
 * format). A chunk boundary may fall anywhere, inside a length or inside a frame, so one
 * DATA chunk carries the end of one frame, whole frames and the start of the next as they
 * fit. Frames [aa bb] and [cc], then a frame of 300 bytes (length ac 02) in chunks of 20
 * bytes, from sequence 7:
 *
 *   44 07 02 aa bb 01 cc ac 02 <11 bytes of the 300>
 *   44 08 <18 bytes of the 300>     ... and so on; the last chunk may be shorter
 *
 * A sender puts into each DATA chunk as much of the stream as it has and as fits, and never
 * waits for more bytes to fill a chunk: a lone frame leaves at once, frames queued back to
 * back fill whole packets. It sends no DATA chunk without stream bytes and sends CLOSE only
 * between frames. A receiver fails the link on a sequence gap, a DATA chunk with no stream
 * bytes or beyond its credits, a length over its frame limit (as soon as the length is
 * read), a length not in its shortest form or of more than 5 bytes, a CLOSE inside a frame
 * or a length, any chunk before HELLO or after CLOSE, and a second HELLO.
 *
 * This module is pure: no I/O, no timers.
 */

/** 128-bit UUID of the certsync primary service, as noble and bleno spell it. */
export const SERVICE_UUID = '6c5e0b4f3c9a4d2e9c1f5a7e2d8b0c10';
/** Characteristic the central writes to without response (central to peripheral). */
export const TO_PERIPHERAL_UUID = '6c5e0b4f3c9a4d2e9c1f5a7e2d8b0c11';
/** Characteristic the peripheral notifies on (peripheral to central). */
export const TO_CENTRAL_UUID = '6c5e0b4f3c9a4d2e9c1f5a7e2d8b0c12';

/** The chunk format's version, sent in HELLO; a peer with another version is refused. */
export const CHUNK_VERSION = 2;
/** Smallest ATT_MTU (Core 5.3, Vol 3, Part F, 3.2.8): 20 bytes of value per packet. */
export const MIN_ATT_MTU = 23;
/** Bytes of an ATT Write Command or Notification that are not the value. */
export const ATT_HEADER_BYTES = 3;
/** Bytes a DATA chunk spends before its stream bytes: kind, sequence. */
export const DATA_HEADER_BYTES = 2;
/** Most bytes a frame's length takes in the stream (LEB128 of a 32-bit length). */
export const MAX_LENGTH_BYTES = 5;

/** The kinds of chunk, by their first byte. */
export const ChunkKind = {
  hello: 0x48,
  data: 0x44,
  credit: 0x43,
  close: 0x45,
} as const;

/** A decoded chunk. `seq` is the sequence byte it carried. */
export type Chunk =
  | { kind: 'hello'; seq: number; version: number; credits: number }
  | { kind: 'data'; seq: number; payload: Uint8Array }
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

/** Encodes one chunk. Throws RangeError for a field out of range or an empty DATA chunk. */
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
    case 'data': {
      if (chunk.payload.length === 0) {
        throw new RangeError('expected a DATA payload of at least 1 byte, got 0');
      }
      const out = new Uint8Array(DATA_HEADER_BYTES + chunk.payload.length);
      out[0] = ChunkKind.data;
      out[1] = chunk.seq;
      out.set(chunk.payload, DATA_HEADER_BYTES);
      return out;
    }
  }
}

/**
 * Decodes one chunk. A DATA payload is a view into `bytes`.
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
    case ChunkKind.data:
      if (bytes.length === DATA_HEADER_BYTES) {
        throw new ChunkFormatError('DATA chunk carries no stream bytes');
      }
      return { kind: 'data', seq, payload: bytes.subarray(DATA_HEADER_BYTES) };
    default:
      throw new ChunkFormatError(`unknown chunk kind 0x${kind.toString(16).padStart(2, '0')}`);
  }
}

/** A frame length as the stream carries it: unsigned LEB128, shortest form. */
export function encodeLength(length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > 0xffffffff) {
    throw new RangeError(`expected length an integer in 0..${0xffffffff}, got ${length}`);
  }
  const out: number[] = [];
  let rest = length;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
  return Uint8Array.from(out);
}

/**
 * The sending half of the stream: frames laid end to end behind their lengths, cut into
 * DATA payloads as the radio asks for them. Holds only the frame being cut; it takes the
 * next frame from its caller only when a payload still has room.
 */
export class FramePacker {
  #head: Uint8Array = new Uint8Array(0);
  #frame: Uint8Array | undefined;
  /** Bytes of the current frame's length and body already packed. */
  #at = 0;

  /** True while a frame has been started and not all of it packed. */
  get midFrame(): boolean {
    return this.#frame !== undefined;
  }

  /**
   * The next DATA payload, at most `room` bytes: the rest of the current frame, then
   * frames from `next` while room is left (the last may only start). Undefined when there
   * is nothing to pack. Never waits for more frames: what `next` lacks now is not packed.
   */
  fill(room: number, next: () => Uint8Array | undefined): Uint8Array | undefined {
    if (!Number.isInteger(room) || room < 1) {
      throw new RangeError(`expected room a positive integer, got ${room}`);
    }
    const out = new Uint8Array(room);
    let used = 0;
    while (used < room) {
      if (!this.#frame) {
        const frame = next();
        if (!frame) break;
        this.#frame = frame;
        this.#head = encodeLength(frame.length);
        this.#at = 0;
      }
      const head = this.#head;
      const frame = this.#frame;
      if (this.#at < head.length) {
        const n = Math.min(head.length - this.#at, room - used);
        out.set(head.subarray(this.#at, this.#at + n), used);
        used += n;
        this.#at += n;
      }
      if (this.#at >= head.length) {
        const from = this.#at - head.length;
        const n = Math.min(frame.length - from, room - used);
        out.set(frame.subarray(from, from + n), used);
        used += n;
        this.#at += n;
        if (from + n === frame.length) this.#frame = undefined;
      }
    }
    return used === 0 ? undefined : out.subarray(0, used);
  }

  /** Forgets the frame being cut (the peer closed: nothing more goes out). */
  drop(): void {
    this.#frame = undefined;
  }
}

/**
 * The DATA chunks that carry `frames` sent back to back, each chunk at most `chunkSize`
 * bytes, with sequence numbers from `firstSeq` on: what a sender makes of frames that were
 * all queued before the first chunk left.
 */
export function packFrames(
  frames: readonly Uint8Array[],
  chunkSize: number,
  firstSeq: number,
): Chunk[] {
  if (!Number.isInteger(chunkSize) || chunkSize <= DATA_HEADER_BYTES) {
    throw new RangeError(`expected chunkSize an integer > ${DATA_HEADER_BYTES}, got ${chunkSize}`);
  }
  const packer = new FramePacker();
  const queue = frames.slice().reverse();
  const chunks: Chunk[] = [];
  let seq = firstSeq & 0xff;
  for (;;) {
    const payload = packer.fill(chunkSize - DATA_HEADER_BYTES, () => queue.pop());
    if (!payload) return chunks;
    chunks.push({ kind: 'data', seq, payload });
    seq = (seq + 1) & 0xff;
  }
}

/** The DATA chunks that carry one frame sent alone (see {@link packFrames}). */
export function fragmentFrame(frame: Uint8Array, chunkSize: number, firstSeq: number): Chunk[] {
  return packFrames([frame], chunkSize, firstSeq);
}

/**
 * The receiving half of the stream: checks the sequence of one direction's chunks and
 * takes frames out of the DATA payloads, checking every length against the limit before
 * any of the frame's bytes are kept. Holds at most one partial frame.
 */
export class Reassembler {
  readonly #maxFrameSize: number;
  #nextSeq = 0;
  /** The length being read: its value so far and how many of its bytes came. */
  #length = 0;
  #lengthBytes = 0;
  #frame: Uint8Array | undefined;
  #filled = 0;

  /** @param maxFrameSize the largest frame the peer may announce */
  constructor(maxFrameSize: number) {
    this.#maxFrameSize = maxFrameSize;
  }

  /** True inside a frame or its length: the stream is not at a frame boundary. */
  get midFrame(): boolean {
    return this.#frame !== undefined || this.#lengthBytes > 0;
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
   * Takes the stream bytes of one DATA chunk (already sequence-checked); returns the
   * frames they complete, in order (none, one or several).
   *
   * @throws ChunkFormatError for an empty payload, a length over the limit, of more than
   *   {@link MAX_LENGTH_BYTES} bytes or not in its shortest form
   */
  push(payload: Uint8Array): Uint8Array[] {
    if (payload.length === 0) throw new ChunkFormatError('DATA chunk carries no stream bytes');
    const frames: Uint8Array[] = [];
    let at = 0;
    while (at < payload.length) {
      const frame = this.#frame;
      if (frame) {
        const n = Math.min(frame.length - this.#filled, payload.length - at);
        frame.set(payload.subarray(at, at + n), this.#filled);
        this.#filled += n;
        at += n;
        if (this.#filled === frame.length) {
          frames.push(frame);
          this.#frame = undefined;
        }
        continue;
      }
      const b = payload[at++]!;
      this.#length += (b & 0x7f) * 2 ** (7 * this.#lengthBytes);
      this.#lengthBytes++;
      if (b & 0x80) {
        if (this.#lengthBytes === MAX_LENGTH_BYTES) {
          throw new ChunkFormatError(`a frame length longer than ${MAX_LENGTH_BYTES} bytes`);
        }
        continue;
      }
      if (b === 0 && this.#lengthBytes > 1) {
        throw new ChunkFormatError('a frame length not in its shortest form');
      }
      const length = this.#length;
      this.#length = 0;
      this.#lengthBytes = 0;
      if (length > this.#maxFrameSize) {
        throw new ChunkFormatError(
          `peer announced a frame of ${length} bytes, over the limit of ${this.#maxFrameSize}`,
        );
      }
      if (length === 0) {
        frames.push(new Uint8Array(0));
      } else {
        this.#frame = new Uint8Array(length);
        this.#filled = 0;
      }
    }
    return frames;
  }
}
