/**
 * The serial line's frame format: each frame is COBS-encoded and ends with one zero byte,
 * so a receiver finds the next frame boundary after any damage by waiting for a zero.
 *
 * Before encoding a frame is (big-endian):
 *
 *   kind u8 | flags u8 | seq u16 | ack u16 | window u8 | body | CRC-32 u32
 *
 * - kind 1, DATA: body is a segment of a link frame; flags bit 0 END marks the segment that
 *   completes the frame, bit 1 FIN marks the sender's clean close (empty body).
 * - kind 2, ACK: seq is 0, body is a 32-bit selective-acknowledgement bitmap: bit i set
 *   means segment ack + 1 + i arrived.
 * - ack is the next segment the sender of this frame expects; window is how many segments
 *   from ack on it can take. Both ride on every frame, so data acknowledges data.
 * - CRC-32 (IEEE 802.3) covers everything before it.
 */
import { crc32 } from '../crc.ts';
import { cobsDecode, cobsEncode, cobsMaxEncodedLength } from './cobs.ts';

/** Largest segment body either end may send. */
export const MAX_SEGMENT_BYTES = 4096;

const HEADER_BYTES = 7;
const CRC_BYTES = 4;
const KIND_DATA = 1;
const KIND_ACK = 2;
const FLAG_END = 1;
const FLAG_FIN = 2;

/** A decoded DATA frame. */
export interface DataFrame {
  kind: 'data';
  seq: number;
  ack: number;
  window: number;
  end: boolean;
  fin: boolean;
  payload: Uint8Array;
}

/** A decoded ACK frame. */
export interface AckFrame {
  kind: 'ack';
  ack: number;
  window: number;
  sack: number;
}

/** One frame of the serial line. Sequence fields are the low 16 bits of the counters. */
export type SerialFrame = DataFrame | AckFrame;

/** Encodes a frame with its CRC and COBS, ending in the 0x00 delimiter. */
export function encodeSerialFrame(frame: SerialFrame): Uint8Array {
  const body = frame.kind === 'data' ? frame.payload : new Uint8Array(4);
  const raw = new Uint8Array(HEADER_BYTES + body.length + CRC_BYTES);
  const view = new DataView(raw.buffer);
  if (frame.kind === 'data') {
    raw[0] = KIND_DATA;
    raw[1] = (frame.end ? FLAG_END : 0) | (frame.fin ? FLAG_FIN : 0);
    view.setUint16(2, frame.seq & 0xffff);
  } else {
    raw[0] = KIND_ACK;
    view.setUint32(HEADER_BYTES, frame.sack >>> 0);
  }
  view.setUint16(4, frame.ack & 0xffff);
  raw[6] = frame.window;
  if (frame.kind === 'data') raw.set(body, HEADER_BYTES);
  view.setUint32(raw.length - CRC_BYTES, crc32(raw, 0, raw.length - CRC_BYTES));
  const encoded = cobsEncode(raw);
  const out = new Uint8Array(encoded.length + 1);
  out.set(encoded);
  return out;
}

/**
 * Splits a byte stream into frames. Anything that does not decode, is too long, or fails
 * its CRC is reported as `'bad'` and skipped up to the next delimiter; memory stays bounded
 * by the largest legal frame whatever the line delivers.
 */
export class SerialFrameDecoder {
  readonly #limit = cobsMaxEncodedLength(HEADER_BYTES + MAX_SEGMENT_BYTES + CRC_BYTES);
  readonly #buffer = new Uint8Array(this.#limit);
  #length = 0;
  #overflow = false;

  /** Feeds received bytes; returns the frames they completed, in order. */
  push(bytes: Uint8Array): (SerialFrame | 'bad')[] {
    const out: (SerialFrame | 'bad')[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i]!;
      if (byte !== 0) {
        if (this.#length < this.#limit) this.#buffer[this.#length++] = byte;
        else this.#overflow = true;
        continue;
      }
      if (this.#overflow) out.push('bad');
      else if (this.#length > 0) out.push(decode(this.#buffer.subarray(0, this.#length)));
      this.#length = 0;
      this.#overflow = false;
    }
    return out;
  }
}

function decode(encoded: Uint8Array): SerialFrame | 'bad' {
  const raw = cobsDecode(encoded);
  if (!raw || raw.length < HEADER_BYTES + CRC_BYTES) return 'bad';
  const view = new DataView(raw.buffer, raw.byteOffset, raw.length);
  if (view.getUint32(raw.length - CRC_BYTES) !== crc32(raw, 0, raw.length - CRC_BYTES)) {
    return 'bad';
  }
  const ack = view.getUint16(4);
  const window = raw[6]!;
  const body = raw.slice(HEADER_BYTES, raw.length - CRC_BYTES);
  if (raw[0] === KIND_DATA) {
    const flags = raw[1]!;
    if (flags & ~(FLAG_END | FLAG_FIN)) return 'bad';
    const seq = view.getUint16(2);
    return {
      kind: 'data',
      seq,
      ack,
      window,
      end: !!(flags & FLAG_END),
      fin: !!(flags & FLAG_FIN),
      payload: body,
    };
  }
  if (raw[0] === KIND_ACK && body.length === 4) {
    return { kind: 'ack', ack, window, sack: view.getUint32(HEADER_BYTES) };
  }
  return 'bad';
}
