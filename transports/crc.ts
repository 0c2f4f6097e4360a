/**
 * The two frame check sequences the line framings use, table-driven.
 */

function table(poly: number): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? poly ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

const CRC32_TABLE = table(0xedb88320);
const FCS16_TABLE = table(0x8408);

/**
 * CRC-32 of IEEE 802.3 (reflected polynomial 0xEDB88320, initial and final XOR
 * 0xFFFFFFFF): the check value of "123456789" is 0xCBF43926. It detects every burst of up
 * to 32 bits and every error of up to 3 bits in frames of the sizes used here.
 */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC32_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * The 16-bit FCS of HDLC, PPP and IrLAP (CRC-CCITT, reflected polynomial 0x8408, initial
 * 0xFFFF, final ones' complement; RFC 1662 Appendix C.2, IrLAP 1.1 §5.2.1.5). The value
 * returned is sent least significant byte first. Running it over data followed by its FCS
 * gives the constant 0xF0B8 ("good FCS").
 */
export function fcs16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffff;
  for (let i = start; i < end; i++) c = (c >>> 8) ^ FCS16_TABLE[(c ^ bytes[i]!) & 0xff]!;
  return ~c & 0xffff;
}
