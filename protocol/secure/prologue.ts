/**
 * The prologue of every certsync handshake (spec/session.md, "Prologue"): the exact hello
 * frames both sides exchanged in the clear, in initiator-then-responder order, and the
 * agreement each side derived from them (the chosen version and capabilities).
 *
 * Noise mixes the prologue into the transcript before the first message, so two sides that
 * saw different hellos (a relay removed a version from a list, or a capability) derive
 * different keys, and the handshake fails with `handshake-failed` at the first encrypted
 * field. A downgrade therefore cannot go unnoticed.
 */
import { describe } from './noise.ts';

const LABEL = new TextEncoder().encode('certsync session v1');

/** The hellos as seen by one side, and what it concluded from them. */
export interface PrologueInput {
  /** The initiator's hello frame, byte for byte as sent or received. */
  readonly initiatorHello: Uint8Array;
  /** The responder's hello frame, byte for byte as sent or received. */
  readonly responderHello: Uint8Array;
  /** This side's encoding of the chosen version and capabilities; empty if none. */
  readonly agreement?: Uint8Array;
}

/**
 * label || u32(len) || initiator hello || u32(len) || responder hello || u32(len) ||
 * agreement, lengths big-endian.
 * @throws TypeError when a part is not a byte array
 */
export function buildPrologue(input: PrologueInput): Uint8Array {
  const parts = [input.initiatorHello, input.responderHello, input.agreement ?? new Uint8Array()];
  for (const part of parts) {
    if (!(part instanceof Uint8Array)) {
      throw new TypeError(`expected hello bytes, got ${describe(part)}`);
    }
  }
  let length = LABEL.length;
  for (const part of parts) length += 4 + part.length;
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  out.set(LABEL);
  let at = LABEL.length;
  for (const part of parts) {
    view.setUint32(at, part.length, false);
    out.set(part, at + 4);
    at += 4 + part.length;
  }
  return out;
}
