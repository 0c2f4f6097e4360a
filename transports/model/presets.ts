/**
 * Link presets with the figures behind them. Each preset is the physical link only; the
 * framing that certsync adds on top (serial ARQ, IrLAP, the BLE chunk headers) is
 * measured, not assumed, by running that framing over the model.
 *
 * Bluetooth figures are from the Bluetooth Core Specification 5.3:
 * - LE 1M and LE 2M symbol rates, 1 and 2 Msym/s: Vol 6, Part A, §3.1.
 * - LL packet: preamble (1 octet on LE 1M, 2 on LE 2M), access address 4, PDU header 2,
 *   payload up to 251 with data length extension, CRC 3: Vol 6, Part B, §2.1 and §2.4.
 * - T_IFS, the space between packets in a connection event, 150 µs: Vol 6, Part B, §4.1.1.
 * - Connection interval a multiple of 1.25 ms from 7.5 ms: Vol 6, Part B, §4.5.1. We use
 *   15 ms, the shortest interval phones commonly grant to accessories.
 * - An ATT_MTU of 247 fills one 251-octet LL payload (L2CAP basic header 4 octets,
 *   Vol 3, Part A, §3.1); a Write Command or a Notification adds 3 octets of opcode and
 *   handle (Vol 3, Part F, §3.4.5.3 and §3.4.7.1), leaving 244 octets of value.
 * Assumption: the controller fills each connection event with as many data packet / empty
 * reply pairs as fit, and each event carries data one way (bulk transfer). Real phones
 * often cap packets per event lower; lower `packetsPerEvent` to model one.
 *
 * UART figures: a character of 8N1 is one start bit, eight data bits and one stop bit
 * (ten bit times), as TIA-232 lines and IrDA SIR both send it.
 *
 * IrDA figures are from the IrDA Serial Infrared Physical Layer Specification (IrPHY) 1.4
 * and the Link Access Protocol (IrLAP) 1.1:
 * - SIR runs 9,600 to 115,200 bit/s in UART characters of ten bits (IrPHY §5.2).
 * - The link is half duplex; after receiving, a station waits the negotiated minimum
 *   turnaround time before transmitting, 0 to 10 ms (IrLAP §6.6.8). We take 1 ms, a
 *   common value for SIR transceivers; 10 ms is the default before negotiation.
 * - Data size up to 2,048 bytes per frame (IrLAP §6.6.5).
 */
import type { LinkParams } from './link-params.ts';

/** Time on air of `octets` at `megaSymbols` Msym/s, in ms. */
const air = (octets: number, megaSymbols: number): number => (octets * 8) / megaSymbols / 1000;

const T_IFS_MS = 0.15;

/** A Bluetooth LE connection to model: PHY, connection interval and ATT_MTU. */
export interface BleConnection {
  phy: '1m' | '2m';
  /** A multiple of 1.25 ms from 7.5 ms to 4 s (Vol 6, Part B, §4.5.1). */
  intervalMs: number;
  /** ATT_MTU, 23 to 247 here: one ATT PDU per LL packet, so no L2CAP fragmentation. */
  attMtu: number;
}

/**
 * Link parameters of a Bluetooth LE connection: each LL packet carries one Write Command
 * or Notification of `attMtu - 3` value bytes (an LL payload of `attMtu + 4` octets, which
 * needs data length extension above 27), answered by an empty packet. Frames are packed
 * into the packets as one stream per direction (`packing: 'stream'`), as certsync's chunk
 * format carries them, so small frames queued together share a packet. The two header
 * bytes of each chunk and the length of each frame (1 to 3 bytes) are not counted here:
 * bench/ble.bench.ts runs the chunk format itself over these parameters, one chunk to a
 * packet (`packing: 'frame'`), and counts them.
 *
 * @throws RangeError for an interval or MTU outside the ranges above
 */
export function bleParams(connection: BleConnection): LinkParams {
  const { phy, intervalMs, attMtu } = connection;
  const steps = intervalMs / 1.25;
  if (!(Number.isInteger(steps) && intervalMs >= 7.5 && intervalMs <= 4000)) {
    throw new RangeError(`expected intervalMs a multiple of 1.25 in 7.5..4000, got ${intervalMs}`);
  }
  if (!(Number.isInteger(attMtu) && attMtu >= 23 && attMtu <= 247)) {
    throw new RangeError(`expected attMtu an integer in 23..247, got ${attMtu}`);
  }
  const megaSymbols = phy === '2m' ? 2 : 1;
  const preamble = phy === '2m' ? 2 : 1;
  const dataOctets = preamble + 4 + 2 + (attMtu + 4) + 3;
  const emptyOctets = preamble + 4 + 2 + 0 + 3;
  const packetMs =
    air(dataOctets, megaSymbols) + T_IFS_MS + air(emptyOctets, megaSymbols) + T_IFS_MS;
  return {
    name: `ble-${phy}-${intervalMs}ms-mtu${attMtu}`,
    bitRate: megaSymbols * 1_000_000,
    bitsPerByte: 8,
    maxFrameSize: 4096,
    frameOverheadBytes: 0,
    latencyMs: 0,
    duplex: 'full',
    turnaroundMs: 0,
    slots: {
      intervalMs,
      packetsPerEvent: Math.floor(intervalMs / packetMs),
      packetMs,
      payloadBytes: attMtu - 3,
      packetBits: dataOctets * 8,
      packing: 'stream',
    },
  };
}

/** Bluetooth LE 1M PHY, 15 ms interval, ATT_MTU 247: 6 packets per event, 97.6 kB/s. */
export const BLE_1M: LinkParams = bleParams({ phy: '1m', intervalMs: 15, attMtu: 247 });

/** Bluetooth LE 2M PHY, 15 ms interval, ATT_MTU 247: 10 packets per event, 162.7 kB/s. */
export const BLE_2M: LinkParams = bleParams({ phy: '2m', intervalMs: 15, attMtu: 247 });

/**
 * A serial line at 115,200 bit/s, 8N1, full duplex: 11,520 bytes/s. The 1 ms latency is
 * one USB full-speed frame, as a USB serial adapter adds.
 */
export const SERIAL_115200: LinkParams = {
  name: 'serial-115200-8n1',
  bitRate: 115_200,
  bitsPerByte: 10,
  maxFrameSize: 4096,
  frameOverheadBytes: 0,
  latencyMs: 1,
  duplex: 'full',
  turnaroundMs: 0,
};

function irdaPreset(bitRate: number): LinkParams {
  return {
    name: `irda-sir-${bitRate}`,
    bitRate,
    bitsPerByte: 10,
    maxFrameSize: 2048,
    frameOverheadBytes: 0,
    latencyMs: 0,
    duplex: 'half',
    turnaroundMs: 1,
  };
}

/** IrDA SIR at 9,600 bit/s, half duplex, 1 ms turnaround: 960 bytes/s. */
export const IRDA_SIR_9600: LinkParams = irdaPreset(9600);

/** IrDA SIR at 115,200 bit/s, half duplex, 1 ms turnaround: 11,520 bytes/s. */
export const IRDA_SIR_115200: LinkParams = irdaPreset(115_200);

/** Every preset, by name. */
export const PRESETS: readonly LinkParams[] = [
  BLE_1M,
  BLE_2M,
  SERIAL_115200,
  IRDA_SIR_9600,
  IRDA_SIR_115200,
];
