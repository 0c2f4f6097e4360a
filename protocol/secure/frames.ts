/**
 * Frames of the handshake phase (spec/session.md, "Handshake frames"). Before the transport
 * phase, every frame starts with a kind byte:
 *
 * - `0x01 mode message`: one Noise handshake message; `mode` says what the initiator wants
 *   and fixes the pattern, and is repeated in every handshake frame of the attempt.
 * - `0x02 code`: an abort, carrying an error code in ASCII. It is not authenticated: it only
 *   tells the peer why the session ends, which an attacker could do by cutting the link.
 *
 * After the handshake, frames carry no kind byte: each is one sealed record (transport.ts).
 */
import { CertsyncError, isErrorCode } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';
import type { PatternName } from './handshake.ts';
import { MAX_NOISE_MESSAGE } from './noise.ts';

/** What an initiator asks for; each mode has one pattern. */
export type HandshakeMode = 'pair' | 'pair-secret' | 'session-ik' | 'session-xx';

const MODE_BYTES: Readonly<Record<HandshakeMode, number>> = Object.freeze({
  pair: 1,
  'pair-secret': 2,
  'session-ik': 3,
  'session-xx': 4,
});

const MODE_PATTERNS: Readonly<Record<HandshakeMode, PatternName>> = Object.freeze({
  pair: 'XX',
  'pair-secret': 'XXpsk3',
  'session-ik': 'IK',
  'session-xx': 'XX',
});

/** The Noise pattern a mode uses. */
export function patternOf(mode: HandshakeMode): PatternName {
  return MODE_PATTERNS[mode];
}

/** True for the two pairing modes. */
export function isPairingMode(mode: HandshakeMode): boolean {
  return mode === 'pair' || mode === 'pair-secret';
}

const KIND_HANDSHAKE = 0x01;
const KIND_ABORT = 0x02;
/** An abort's code is short ASCII; anything longer is malformed. */
const MAX_ABORT_CODE = 64;

/** A decoded handshake-phase frame. */
export type HandshakeFrame =
  | { readonly kind: 'handshake'; readonly mode: HandshakeMode; readonly message: Uint8Array }
  | { readonly kind: 'abort'; readonly code: ErrorCode };

/** Wraps one Noise handshake message. */
export function encodeHandshakeFrame(mode: HandshakeMode, message: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + message.length);
  out[0] = KIND_HANDSHAKE;
  out[1] = MODE_BYTES[mode];
  out.set(message, 2);
  return out;
}

/** An abort frame telling the peer which error ends the session. */
export function encodeAbortFrame(code: ErrorCode): Uint8Array {
  const text = new TextEncoder().encode(code);
  const out = new Uint8Array(1 + text.length);
  out[0] = KIND_ABORT;
  out.set(text, 1);
  return out;
}

/**
 * Decodes a handshake-phase frame from the peer.
 * @throws CertsyncError `frame-too-large` over the Noise limit; `malformed-message` for an
 *   unknown kind or mode, or an abort whose code is not in the closed set
 */
export function decodeHandshakeFrame(frame: Uint8Array): HandshakeFrame {
  if (frame.length > MAX_NOISE_MESSAGE + 2) {
    throw new CertsyncError('frame-too-large', `a handshake frame of ${frame.length} bytes`);
  }
  if (frame[0] === KIND_HANDSHAKE && frame.length >= 2) {
    const byte = frame[1];
    const mode = (Object.keys(MODE_BYTES) as HandshakeMode[]).find((m) => MODE_BYTES[m] === byte);
    if (mode === undefined) {
      throw new CertsyncError('malformed-message', `unknown handshake mode ${String(byte)}`);
    }
    return { kind: 'handshake', mode, message: frame.subarray(2) };
  }
  if (frame[0] === KIND_ABORT && frame.length <= 1 + MAX_ABORT_CODE) {
    let code = '';
    for (const b of frame.subarray(1)) code += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '?';
    if (isErrorCode(code)) return { kind: 'abort', code };
    throw new CertsyncError('malformed-message', `abort with unknown code '${code}'`);
  }
  throw new CertsyncError('malformed-message', `unknown handshake frame kind ${String(frame[0])}`);
}
