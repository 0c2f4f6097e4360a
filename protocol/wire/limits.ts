/**
 * Hard limits every certsync decoder enforces before it allocates (spec/protocol.md, "Limits").
 *
 * A frame over `maxFrameBytes` is rejected with `frame-too-large`; a frame that breaks any
 * other limit is rejected with `limit-exceeded`. Limits are checked against the length a
 * CBOR head *claims* before any memory is reserved for it, so a head claiming 4 GB costs
 * nothing but the few bytes already read.
 */

/** The decoder's bounds. Every field is an inclusive maximum. */
export interface WireLimits {
  /** Largest frame (one whole envelope), in bytes. */
  readonly maxFrameBytes: number;
  /** Largest number of CBOR data items in one frame (every array, map, key and value counts). */
  readonly maxItems: number;
  /** Deepest nesting of arrays and maps; the envelope array itself is depth 1. */
  readonly maxDepth: number;
  /** Longest text string, in UTF-8 bytes. */
  readonly maxTextBytes: number;
  /** Longest byte string (a DER certificate or CRL is one), in bytes. */
  readonly maxByteStringBytes: number;
  /** Most elements in one array or entries in one map. */
  readonly maxContainerLength: number;
}

/** The limits of protocol version 1 (spec/protocol.md, "Limits"); a peer may ask for less. */
export const DEFAULT_LIMITS: WireLimits = Object.freeze({
  maxFrameBytes: 262_144,
  maxItems: 65_536,
  maxDepth: 8,
  maxTextBytes: 4_096,
  maxByteStringBytes: 196_608,
  maxContainerLength: 4_096,
});

/** The smallest frame limit a peer may announce; every message of version 1 fits in it. */
export const MIN_FRAME_BYTES = 4_096;

/**
 * Limits with a frame bound lowered to what a peer or a link accepts.
 *
 * @throws RangeError when `maxFrameBytes` is not an integer in
 *   [{@link MIN_FRAME_BYTES}, `base.maxFrameBytes`]
 */
export function withFrameLimit(base: WireLimits, maxFrameBytes: number): WireLimits {
  if (
    !Number.isInteger(maxFrameBytes) ||
    maxFrameBytes < MIN_FRAME_BYTES ||
    maxFrameBytes > base.maxFrameBytes
  ) {
    throw new RangeError(
      `expected a frame limit from ${MIN_FRAME_BYTES} to ${base.maxFrameBytes}, ` +
        `got ${maxFrameBytes}`,
    );
  }
  return Object.freeze({ ...base, maxFrameBytes });
}
