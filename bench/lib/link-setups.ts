/**
 * The links the sync benchmark runs over, each on a fresh virtual clock:
 *
 * - BLE 1M and 2M at a 30 ms connection interval: the framed link model (transports/model/
 *   link-model.ts) with the presets' LE figures and the interval doubled, as phones often
 *   grant to accessories when idle; the link layer's own acknowledgements are in the model.
 * - serial 115,200 8N1: certsync's serial framing (COBS, CRC-32, acknowledgements and
 *   resends, transports/serial/serial-link.ts) over the byte-line model, every framing
 *   byte counted.
 * - IrDA SIR 115,200, half duplex: the emulated IrLAP station pair (transports/irda/
 *   irda-link.ts) over the byte-line model, with SIR framing, turnarounds and polls.
 *
 * Capacity is the link's raw payload rate one way (link-params.ts, rawCapacity).
 */
import { IrdaLink } from '../../transports/irda/irda-link.ts';
import type { Link } from '../../transports/link.ts';
import { createModelLinePair } from '../../transports/model/byte-line.ts';
import { createModelLinkPair } from '../../transports/model/link-model.ts';
import { rawCapacity, type LinkParams } from '../../transports/model/link-params.ts';
import { BLE_1M, BLE_2M, IRDA_SIR_115200, SERIAL_115200 } from '../../transports/model/presets.ts';
import { VirtualClock } from '../../transports/model/virtual-clock.ts';
import { SerialLink } from '../../transports/serial/serial-link.ts';

/** A link preset with a longer connection interval (packets per event scale with it). */
export function withInterval(params: LinkParams, intervalMs: number): LinkParams {
  const s = params.slots;
  if (!s) throw new RangeError(`expected a link with a slot schedule, got ${params.name}`);
  return {
    ...params,
    name: params.name.replace(/\d+ms/, `${intervalMs}ms`),
    slots: { ...s, intervalMs, packetsPerEvent: Math.floor(intervalMs / s.packetMs) },
  };
}

/** Names of the links, as the tables and the JSON show them. */
export const LINK_NAMES = [
  'ble-1m-30ms',
  'ble-2m-30ms',
  'serial-115200',
  'irda-sir-115200',
] as const;
/** A link's name. */
export type LinkName = (typeof LINK_NAMES)[number];

/** A fresh link pair on its own clock, and how to tear it down. */
export interface LinkSetup {
  readonly name: LinkName;
  readonly params: LinkParams;
  /** Payload bytes per second one way, raw. */
  readonly capacity: number;
  readonly duplex: 'full' | 'half';
  readonly clock: VirtualClock;
  readonly a: Link;
  readonly b: Link;
  /** Closes both ends and the line under them. */
  close(): Promise<void>;
}

/** The parameters behind a link name. */
export function paramsOf(name: LinkName): LinkParams {
  switch (name) {
    case 'ble-1m-30ms':
      return withInterval(BLE_1M, 30);
    case 'ble-2m-30ms':
      return withInterval(BLE_2M, 30);
    case 'serial-115200':
      return SERIAL_115200;
    case 'irda-sir-115200':
      return IRDA_SIR_115200;
  }
}

/** Opens link `name` on a new virtual clock. */
export function openLink(name: LinkName): LinkSetup {
  const clock = new VirtualClock();
  const params = paramsOf(name);
  const common = { name, params, capacity: rawCapacity(params), duplex: params.duplex, clock };
  if (params.slots) {
    const pair = createModelLinkPair(params, { clock });
    return {
      ...common,
      a: pair.a,
      b: pair.b,
      close: async () => void (await Promise.allSettled([pair.a.close(), pair.b.close()])),
    };
  }
  const line = createModelLinePair(params, { clock });
  let a: Link;
  let b: Link;
  if (params.duplex === 'full') {
    const tuning = { clock, segmentBytes: 1024, window: 32, deadPeerMs: 600_000 };
    a = new SerialLink(line.a, tuning);
    b = new SerialLink(line.b, tuning);
  } else {
    // The model spends the turnaround on each change of direction itself.
    const tuning = {
      clock,
      bitRate: params.bitRate,
      dataSize: 2048,
      minTurnaroundMs: 0,
      disconnectMs: 600_000,
    };
    a = new IrdaLink(line.a, { role: 'primary', ...tuning });
    b = new IrdaLink(line.b, { role: 'secondary', ...tuning });
  }
  return {
    ...common,
    a,
    b,
    async close() {
      await Promise.allSettled([a.close(), b.close()]);
      line.a.destroy();
      line.b.destroy();
    },
  };
}

/**
 * The round-trip time of link `name`: a 64-byte frame there and back, averaged over 8
 * exchanges after one to warm the link up (IrLAP connects on first use), in ms.
 */
export async function measureRoundTrip(name: LinkName): Promise<number> {
  const setup = openLink(name);
  const frame = new Uint8Array(64);
  const once = async (): Promise<void> => {
    await setup.a.send(frame);
    await setup.b.receive();
    await setup.b.send(frame);
    await setup.a.receive();
  };
  await once();
  const t0 = setup.clock.now();
  for (let i = 0; i < 8; i++) await once();
  const rtt = (setup.clock.now() - t0) / 8;
  await setup.close();
  return rtt;
}
