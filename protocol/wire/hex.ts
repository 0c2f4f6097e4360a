/** Lower-case hex, the one text form of ids and bytes in certsync's protocol and vectors. */

/** Lower-case hex of a byte string. */
export function hexOf(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/**
 * Bytes of a lower-case hex string.
 *
 * @throws RangeError when `hex` is not lower-case hex digits in pairs
 */
export function bytesOf(hex: string): Uint8Array {
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) {
    throw new RangeError(`expected lower-case hex digits in pairs, got '${hex.slice(0, 16)}'`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
