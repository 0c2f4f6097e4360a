/**
 * Consistent Overhead Byte Stuffing (Cheshire and Baker, IEEE/ACM Transactions on
 * Networking 7(2), 1999): removes every zero byte from a frame, so a single zero byte can
 * mark the frame's end on a raw line, at a cost of at most one byte in 254.
 */

/** Largest encoded size of `length` bytes (without the delimiter). */
export function cobsMaxEncodedLength(length: number): number {
  return length + Math.ceil(length / 254) + 1;
}

/** Encodes `data` so that it contains no zero byte; the caller appends the 0x00 delimiter. */
export function cobsEncode(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(cobsMaxEncodedLength(data.length));
  let codeAt = 0;
  let o = 1;
  let code = 1;
  for (let i = 0; i < data.length; i++) {
    const byte = data[i]!;
    if (byte !== 0) {
      out[o++] = byte;
      code++;
    }
    if (byte === 0 || code === 0xff) {
      // A block ends at a zero byte (implied) or after 254 non-zero bytes (none implied).
      out[codeAt] = code;
      codeAt = o++;
      code = 1;
    }
  }
  out[codeAt] = code;
  return out.subarray(0, o);
}

/**
 * Decodes one COBS block sequence (without its delimiter).
 *
 * @returns the data, or undefined when the input is not valid COBS (a zero byte inside, or
 *   a block that runs past the end)
 */
export function cobsDecode(encoded: Uint8Array): Uint8Array | undefined {
  const out = new Uint8Array(encoded.length);
  let o = 0;
  let i = 0;
  while (i < encoded.length) {
    const code = encoded[i]!;
    if (code === 0 || i + code > encoded.length) return undefined;
    for (let k = 1; k < code; k++) {
      const byte = encoded[i + k]!;
      if (byte === 0) return undefined;
      out[o++] = byte;
    }
    i += code;
    if (code < 0xff && i < encoded.length) out[o++] = 0;
  }
  return out.subarray(0, o);
}
