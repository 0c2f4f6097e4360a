/**
 * The address and control fields of IrLAP frames (IrLAP 1.1 §5.2, the HDLC formats with
 * modulo-8 sequence numbers), and the one-byte segment header certsync adds in front of
 * each I-frame's information.
 *
 * Address: bits 7..1 the connection address, bit 0 C/R (1 for commands from the primary,
 * 0 for responses from the secondary). Control, bit 4 always P/F:
 * - I-frame: bit 0 = 0, N(S) in bits 3..1, N(R) in bits 7..5.
 * - S-frame: bits 1..0 = 01; RR 0x01, RNR 0x05, REJ 0x09; N(R) in bits 7..5; optionally
 *   one more byte of selective acknowledgement (see {@link sFrame}).
 * - U-frame: bits 1..0 = 11; SNRM 0x83, DISC 0x43 (as a command) and RD 0x43 (as a
 *   response), UA 0x63, DM 0x0F.
 */

/** The P/F bit of a control field. */
export const PF = 0x10;

/** Unnumbered frame types, without the P/F bit. */
export const U = { SNRM: 0x83, DISC_OR_RD: 0x43, UA: 0x63, DM: 0x0f } as const;

/** Supervisory frame types. */
export const S = { RR: 0x01, RNR: 0x05, REJ: 0x09 } as const;

/** One parsed IrLAP frame. */
export type IrlapFrame =
  | { kind: 'i'; command: boolean; pf: boolean; ns: number; nr: number; info: Uint8Array }
  | { kind: 's'; command: boolean; pf: boolean; type: number; nr: number; received: number }
  | { kind: 'u'; command: boolean; pf: boolean; type: number };

/** Builds an I-frame: the info field is `segment header | payload`. */
export function iFrame(
  address: number,
  command: boolean,
  ns: number,
  nr: number,
  pf: boolean,
  info: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(2 + info.length);
  out[0] = (address << 1) | (command ? 1 : 0);
  out[1] = ((nr & 7) << 5) | (pf ? PF : 0) | ((ns & 7) << 1);
  out.set(info, 2);
  return out;
}

/**
 * Builds an S-frame. A non-zero `received` adds certsync's selective-acknowledgement byte:
 * bit i set means I-frame N(R) + 1 + i arrived and is held (IrLAP itself has no such field).
 */
export function sFrame(
  address: number,
  command: boolean,
  type: number,
  nr: number,
  pf: boolean,
  received = 0,
) {
  const head = [(address << 1) | (command ? 1 : 0), ((nr & 7) << 5) | (pf ? PF : 0) | type];
  return Uint8Array.from(received ? [...head, received] : head);
}

/** Builds a U-frame. */
export function uFrame(address: number, command: boolean, type: number, pf: boolean) {
  return Uint8Array.from([(address << 1) | (command ? 1 : 0), (pf ? PF : 0) | type]);
}

/** Parses address and control; undefined for another connection's frame or a bad one. */
export function parseIrlapFrame(raw: Uint8Array, address: number): IrlapFrame | undefined {
  if (raw.length < 2 || raw[0]! >> 1 !== address) return undefined;
  const command = (raw[0]! & 1) === 1;
  const c = raw[1]!;
  const pf = (c & PF) !== 0;
  if ((c & 1) === 0) {
    return { kind: 'i', command, pf, ns: (c >> 1) & 7, nr: c >> 5, info: raw.subarray(2) };
  }
  if ((c & 3) === 1 && raw.length <= 3) {
    return { kind: 's', command, pf, type: c & 0x0f, nr: c >> 5, received: raw[2] ?? 0 };
  }
  if (raw.length !== 2 || (c & 3) !== 3) return undefined;
  return { kind: 'u', command, pf, type: c & ~PF };
}

/** Segment header bit: this I-frame ends a link frame (cf. the M bit of IrDA TinyTP). */
export const SEGMENT_END = 0x01;
