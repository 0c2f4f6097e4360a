/**
 * The envelope every certsync frame is (spec/protocol.md, "Envelope"): a CBOR array
 * `[version, type, payload]` of a protocol version, an integer message type and a map.
 *
 * The envelope's shape is frozen across protocol versions, so a peer of any version can
 * read the version and type of any frame before it knows the payload's schema.
 */

import { CertsyncError } from '../errors.ts';
import { decodeCbor, encodeCbor, type CborKey, type CborValue } from './cbor.ts';
import type { WireLimits } from './limits.ts';

/** A decoded envelope: the payload is still a raw CBOR map, checked later by its schema. */
export interface Envelope {
  readonly version: number;
  readonly type: number;
  readonly payload: ReadonlyMap<CborKey, CborValue>;
}

/** Largest protocol version and message type code the envelope carries. */
export const MAX_ENVELOPE_CODE = 0xffff;

/**
 * Type codes from here up are extensions a receiver that does not know them skips; an
 * unknown code below it is fatal (`unknown-message`). spec/protocol.md, "Unknown types".
 */
export const FIRST_IGNORABLE_TYPE = 128;

/** True when a receiver that does not know `type` must skip it rather than fail. */
export function isIgnorableType(type: number): boolean {
  return type >= FIRST_IGNORABLE_TYPE;
}

/**
 * Encodes an envelope into one frame.
 *
 * @throws CertsyncError `frame-too-large` when the frame would be over `limits.maxFrameBytes`
 * @throws RangeError when version or type is not an integer in 1..{@link MAX_ENVELOPE_CODE}
 */
export function encodeEnvelope(envelope: Envelope, limits: WireLimits): Uint8Array {
  for (const [name, v] of [
    ['version', envelope.version],
    ['type', envelope.type],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > MAX_ENVELOPE_CODE) {
      throw new RangeError(`expected an envelope ${name} in 1..${MAX_ENVELOPE_CODE}, got ${v}`);
    }
  }
  const frame = encodeCbor([envelope.version, envelope.type, envelope.payload]);
  if (frame.length > limits.maxFrameBytes) {
    throw new CertsyncError(
      'frame-too-large',
      `message type ${envelope.type} encodes to ${frame.length} bytes, ` +
        `over the frame limit of ${limits.maxFrameBytes}`,
    );
  }
  return frame;
}

/**
 * Decodes one frame into its envelope, within `limits`.
 *
 * @throws CertsyncError `frame-too-large`, `limit-exceeded` or `malformed-message` (see
 *   {@link decodeCbor}); `malformed-message` also when the frame is not a three-element
 *   array of version, type and map
 */
export function decodeEnvelope(frame: Uint8Array, limits: WireLimits): Envelope {
  const value = decodeCbor(frame, limits);
  if (!Array.isArray(value) || value.length !== 3) {
    throw new CertsyncError(
      'malformed-message',
      'a frame must be the array [version, type, payload]',
    );
  }
  const [version, type, payload] = value as readonly CborValue[];
  if (typeof version !== 'number' || version < 1 || version > MAX_ENVELOPE_CODE) {
    throw new CertsyncError(
      'malformed-message',
      `envelope version ${String(version)} is not 1..65535`,
    );
  }
  if (typeof type !== 'number' || type < 1 || type > MAX_ENVELOPE_CODE) {
    throw new CertsyncError('malformed-message', `envelope type ${String(type)} is not 1..65535`);
  }
  if (!(payload instanceof Map)) {
    throw new CertsyncError('malformed-message', `payload of message type ${type} is not a map`);
  }
  return { version, type, payload };
}
