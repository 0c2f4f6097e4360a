/**
 * IrDA SIR framing: how IrLAP frames travel as UART characters (IrLAP 1.1 §10.1, the
 * asynchronous framing it shares with PPP, RFC 1662 §4).
 *
 *   [XBOF 0xFF]* BOF 0xC0 | address | control | information | FCS (2, LSB first) | EOF 0xC1
 *
 * Between BOF and EOF, any 0xC0, 0xC1 or 0x7D is sent as the control escape 0x7D followed
 * by the byte XOR 0x20, so BOF and EOF only ever mark frame edges. The FCS is the 16-bit
 * CRC-CCITT over address, control and information (crc.ts). A receiver resynchronises on
 * every BOF, so a damaged frame costs only itself.
 */
import { fcs16 } from '../crc.ts';

const XBOF = 0xff;
const BOF = 0xc0;
const EOF = 0xc1;
const ESC = 0x7d;
const ESC_XOR = 0x20;

/** Wraps one IrLAP frame (address, control, information) for the line. */
export function encodeSirFrame(frame: Uint8Array, extraBofs = 0): Uint8Array {
  const fcs = fcs16(frame);
  const body = new Uint8Array(frame.length + 2);
  body.set(frame);
  body[frame.length] = fcs & 0xff;
  body[frame.length + 1] = fcs >> 8;
  let escapes = 0;
  for (const b of body) if (b === BOF || b === EOF || b === ESC) escapes++;
  const out = new Uint8Array(extraBofs + 2 + body.length + escapes);
  out.fill(XBOF, 0, extraBofs);
  let o = extraBofs;
  out[o++] = BOF;
  for (const b of body) {
    if (b === BOF || b === EOF || b === ESC) {
      out[o++] = ESC;
      out[o++] = b ^ ESC_XOR;
    } else out[o++] = b;
  }
  out[o] = EOF;
  return out;
}

/** Line bytes one frame of `length` bytes takes at most (every byte escaped). */
export function sirEncodedMax(length: number, extraBofs = 0): number {
  return extraBofs + 2 + 2 * (length + 2);
}

/**
 * Finds frames in received bytes. Returns, per completed frame, its address, control and
 * information bytes, or `'bad'` for a frame whose FCS fails, that is too short or too long,
 * or that was aborted. Bytes outside BOF ... EOF are ignored. Memory stays bounded by
 * `maxFrameBytes`.
 */
export class SirDecoder {
  readonly #buffer: Uint8Array;
  #length = 0;
  #inFrame = false;
  #escaped = false;
  #overflow = false;

  /** @param maxFrameBytes largest address + control + information, without the FCS */
  constructor(maxFrameBytes: number) {
    this.#buffer = new Uint8Array(maxFrameBytes + 2);
  }

  push(bytes: Uint8Array): (Uint8Array | 'bad')[] {
    const out: (Uint8Array | 'bad')[] = [];
    for (const byte of bytes) {
      if (byte === BOF) {
        // A BOF inside a frame means its end was lost: that frame is gone.
        if (this.#inFrame && this.#length > 0) out.push('bad');
        this.#inFrame = true;
        this.#length = 0;
        this.#escaped = false;
        this.#overflow = false;
        continue;
      }
      if (!this.#inFrame) continue;
      if (byte === EOF) {
        // 0x7D 0xC1 is IrLAP's abort sequence (§10.1.4); an aborted frame is dropped.
        out.push(this.#escaped || this.#overflow ? 'bad' : this.#finish());
        this.#inFrame = false;
        continue;
      }
      if (byte === ESC) {
        this.#escaped = true;
        continue;
      }
      const value = this.#escaped ? byte ^ ESC_XOR : byte;
      this.#escaped = false;
      if (this.#length < this.#buffer.length) this.#buffer[this.#length++] = value;
      else this.#overflow = true;
    }
    return out;
  }

  #finish(): Uint8Array | 'bad' {
    const n = this.#length;
    if (n < 4) return 'bad';
    const fcs = this.#buffer[n - 2]! | (this.#buffer[n - 1]! << 8);
    if (fcs16(this.#buffer, 0, n - 2) !== fcs) return 'bad';
    return this.#buffer.slice(0, n - 2);
  }
}
