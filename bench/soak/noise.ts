/**
 * Soak part `noise`: certsync's serial framing and the IrDA station over the byte-line model
 * at bit error rates 0, 1e-5 and 1e-4, carrying certificate-sized frames (800 to 2,600
 * bytes, like DER certificates with their metadata). Every frame must arrive exactly once,
 * in order and byte for byte: a damaged line frame must be caught by its CRC/FCS and sent
 * again, never handed over. Reports the line frames damaged and resent, and the goodput
 * lost to noise against the same run without errors. Time is virtual (transports/model), so
 * the figures are the same on every machine for the same seed.
 */
import { IrdaLink } from '../../transports/irda/irda-link.ts';
import type { Link } from '../../transports/link.ts';
import { createModelLinePair } from '../../transports/model/byte-line.ts';
import type { LinkParams } from '../../transports/model/link-params.ts';
import { IRDA_SIR_115200, SERIAL_115200 } from '../../transports/model/presets.ts';
import { seededRandom } from '../../transports/model/seeded-random.ts';
import { VirtualClock } from '../../transports/model/virtual-clock.ts';
import { SerialLink } from '../../transports/serial/serial-link.ts';
import { emptyResult, fail, type PartContext, type PartResult } from './part.ts';

/** The bit error rates the part runs at; 0 is the reference for goodput loss. */
export const NOISE_BERS = [0, 1e-5, 1e-4] as const;

interface Stack {
  a: Link;
  b: Link;
  damaged: () => number;
  resent: () => number;
  flipped: () => number;
  done: () => void;
}

function serialStack(params: LinkParams, clock: VirtualClock, ber: number, seed: number): Stack {
  const line = createModelLinePair(params, { clock, ber, random: seededRandom(seed) });
  const tuning = { clock, segmentBytes: 1024, window: 16, deadPeerMs: 600_000 };
  const a = new SerialLink(line.a, tuning);
  const b = new SerialLink(line.b, tuning);
  return {
    a,
    b,
    damaged: () => a.stats().badFrames + b.stats().badFrames,
    resent: () => a.stats().retransmissions + b.stats().retransmissions,
    flipped: () => line.stats().flippedBits,
    done: () => (line.a.destroy(), line.b.destroy()),
  };
}

function irdaStack(params: LinkParams, clock: VirtualClock, ber: number, seed: number): Stack {
  const line = createModelLinePair(params, { clock, ber, random: seededRandom(seed) });
  const tuning = {
    clock,
    bitRate: params.bitRate,
    dataSize: 512,
    minTurnaroundMs: 0,
    disconnectMs: 600_000,
  };
  const a = new IrdaLink(line.a, { role: 'primary', ...tuning });
  const b = new IrdaLink(line.b, { role: 'secondary', ...tuning });
  return {
    a,
    b,
    damaged: () => a.stats().badFrames + b.stats().badFrames,
    resent: () => a.stats().retransmissions + b.stats().retransmissions,
    flipped: () => line.stats().flippedBits,
    done: () => (line.a.destroy(), line.b.destroy()),
  };
}

/** Certificate-sized frames, each different, from `seed`. */
export function certificateFrames(count: number, seed: number): Uint8Array[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const n = 800 + Math.floor(random() * 1800);
    return Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
  });
}

interface Run {
  seconds: number;
  bytes: number;
  corrupt: number;
  missing: number;
  damaged: number;
  resent: number;
  flipped: number;
}

/** Sends `frames` a to b and checks each one that arrives against what was sent. */
async function carry(stack: Stack, clock: VirtualClock, frames: Uint8Array[]): Promise<Run> {
  const start = clock.now();
  const writer = (async () => {
    for (const f of frames) await stack.a.send(f);
  })();
  let corrupt = 0;
  let received = 0;
  for (const expected of frames) {
    const got = await stack.b.receive();
    if (got === null) break;
    received++;
    if (got.length !== expected.length || !got.every((x, i) => x === expected[i])) corrupt++;
  }
  await writer;
  const seconds = (clock.now() - start) / 1000;
  await Promise.allSettled([stack.a.close(), stack.b.close()]);
  stack.done();
  return {
    seconds,
    bytes: frames.reduce((n, f) => n + f.length, 0),
    corrupt,
    missing: frames.length - received,
    damaged: stack.damaged(),
    resent: stack.resent(),
    flipped: stack.flipped(),
  };
}

/** Runs the part. */
export async function noise(ctx: PartContext): Promise<PartResult> {
  const result = emptyResult('noise');
  const t0 = performance.now();
  const frames = certificateFrames(ctx.budget.noiseFrames, ctx.seed);
  const stacks = [
    { name: 'serial-115200', params: SERIAL_115200, make: serialStack },
    { name: 'irda-115200', params: IRDA_SIR_115200, make: irdaStack },
  ];
  for (const s of stacks) {
    let reference = 0;
    for (const ber of NOISE_BERS) {
      const clock = new VirtualClock();
      const run = await carry(s.make(s.params, clock, ber, ctx.seed + 7), clock, frames);
      ctx.memory.sample();
      const goodput = run.bytes / run.seconds;
      if (ber === 0) reference = goodput;
      const tag = `${s.name} ber ${ber === 0 ? '0' : ber.toExponential(0)}`;
      result.inputs += frames.length;
      result.framesDamaged += run.damaged;
      result.figures[`${tag} goodput B/s`] = Math.round(goodput);
      result.figures[`${tag} goodput loss %`] = Number(
        (100 * (1 - goodput / reference)).toFixed(1),
      );
      result.figures[`${tag} bits flipped`] = run.flipped;
      result.figures[`${tag} line frames damaged`] = run.damaged;
      result.figures[`${tag} resends`] = run.resent;
      if (run.corrupt > 0) fail(result, tag, `${run.corrupt} corrupt frames delivered`);
      if (run.missing > 0) fail(result, tag, `${run.missing} frames never arrived`);
      if (run.flipped > 0 && run.damaged === 0) {
        fail(result, tag, `${run.flipped} bits flipped but no damaged frame was detected`);
      }
      if (run.damaged > 0 && run.resent === 0) {
        fail(result, tag, `${run.damaged} damaged frames and not one resend`);
      }
    }
  }
  result.seconds = (performance.now() - t0) / 1000;
  return result;
}
