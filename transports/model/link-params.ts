/**
 * The physical parameters of a modelled link, and the timing they imply.
 */

/**
 * A connection-event schedule, as Bluetooth LE has: the link carries packets only inside
 * events that start every `intervalMs`, at most `packetsPerEvent` per event, each packet
 * taking `packetMs` (the data packet, the inter-frame space, the peer's reply and the next
 * space) and carrying up to `payloadBytes` of the link's frames.
 */
export interface SlotSchedule {
  intervalMs: number;
  packetsPerEvent: number;
  packetMs: number;
  payloadBytes: number;
  /** Bits on air per packet, counted for bit errors (header, payload, CRC). */
  packetBits: number;
  /**
   * How frames fill packets (default `frame`).
   * - `frame`: each frame, with the link's frame overhead, takes whole packets of its own;
   *   a frame of one byte costs a packet.
   * - `stream`: the frames of one direction lie end to end in one byte stream that is cut
   *   into packets, so one packet carries the end of a frame, whole frames and the start of
   *   the next. Each packet is filled when its slot comes, with what is queued then: a lone
   *   frame leaves in the next slot, never held back to fill a packet. This is how
   *   certsync's BLE chunk format (transports/ble/gatt-service.ts) uses ATT packets.
   */
  packing?: 'frame' | 'stream';
}

/** What a link model needs to know about the link it imitates. */
export interface LinkParams {
  /** A short name for tables: `serial-115200-8n1`. */
  name: string;
  /** Signalling rate of the line in bit/s. */
  bitRate: number;
  /** Line bits per payload byte: 8 for a synchronous line, 10 for a UART's 8N1. */
  bitsPerByte: number;
  /** Largest frame, in bytes, the framed model link accepts. */
  maxFrameSize: number;
  /** Bytes the line adds to each frame in the framed model (headers, checksums, flags). */
  frameOverheadBytes: number;
  /** One-way delay from the end of a transmission to its arrival, in ms. */
  latencyMs: number;
  /** `half`: one side transmits at a time, and a change of direction costs `turnaroundMs`. */
  duplex: 'full' | 'half';
  turnaroundMs: number;
  /** Present for links that transmit only in scheduled slots (Bluetooth LE). */
  slots?: SlotSchedule;
}

/** Checks `params` and returns them; throws RangeError naming the first bad field. */
export function checkLinkParams(params: LinkParams): LinkParams {
  const positive = ['bitRate', 'bitsPerByte', 'maxFrameSize'] as const;
  for (const key of positive) {
    if (!(params[key] > 0)) throw new RangeError(`expected ${key} > 0, got ${params[key]}`);
  }
  const nonNegative = ['frameOverheadBytes', 'latencyMs', 'turnaroundMs'] as const;
  for (const key of nonNegative) {
    if (!(params[key] >= 0)) throw new RangeError(`expected ${key} >= 0, got ${params[key]}`);
  }
  const s = params.slots;
  if (s && !(s.intervalMs > 0 && s.packetsPerEvent >= 1 && s.packetMs > 0 && s.payloadBytes > 0)) {
    throw new RangeError(`expected a slot schedule with positive fields, got ${JSON.stringify(s)}`);
  }
  if (s && s.packing !== undefined && s.packing !== 'frame' && s.packing !== 'stream') {
    throw new RangeError(`expected packing 'frame' or 'stream', got ${String(s.packing)}`);
  }
  if (s && s.packetsPerEvent * s.packetMs > s.intervalMs) {
    throw new RangeError(
      `expected packetsPerEvent * packetMs <= intervalMs, got ${s.packetsPerEvent * s.packetMs}`,
    );
  }
  return params;
}

/**
 * The most payload the link carries one way, in bytes per second, with no framing of any
 * layer above it: the figure benchmark results are a share of.
 */
export function rawCapacity(params: LinkParams): number {
  const s = params.slots;
  if (s) return (s.packetsPerEvent * s.payloadBytes * 1000) / s.intervalMs;
  return params.bitRate / params.bitsPerByte;
}

/** Milliseconds the line needs for `bytes` bytes outside a slot schedule. */
export function lineTimeMs(params: LinkParams, bytes: number): number {
  return (bytes * params.bitsPerByte * 1000) / params.bitRate;
}

/**
 * The end time of `packets` packets sent in a slot schedule, starting at the first slot at
 * or after `startMs`.
 */
export function slotEndMs(s: SlotSchedule, startMs: number, packets: number): number {
  const event = Math.floor(startMs / s.intervalMs);
  let slot = Math.ceil((startMs - event * s.intervalMs) / s.packetMs - 1e-9);
  let first = event * s.packetsPerEvent + slot;
  if (slot >= s.packetsPerEvent) {
    slot = 0;
    first = (event + 1) * s.packetsPerEvent;
  }
  const last = first + packets - 1;
  const lastEvent = Math.floor(last / s.packetsPerEvent);
  return lastEvent * s.intervalMs + (last - lastEvent * s.packetsPerEvent + 1) * s.packetMs;
}
