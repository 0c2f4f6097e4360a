/**
 * The fuzzing loop every `fuzz-*` part uses: seeded mutations of valid inputs (and plain
 * noise) fed to decoders round-robin, each under the watchdog, each rejection checked to be
 * the layer's own error type. Any other throw, a decoder that takes longer than the slow
 * limit, or heap that keeps growing is a failure, its input saved as hex.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { seededRandom } from '../../transports/model/seeded-random.ts';
import { describeThrown, emptyResult, fail, type PartContext, type PartResult } from './part.ts';

/** One decoder under fuzz. */
export interface FuzzTarget {
  readonly name: string;
  /** Valid inputs to mutate (at least one). */
  readonly seeds: readonly Uint8Array[];
  /** Feeds one input; returns normally on acceptance, throws on rejection. */
  run(input: Uint8Array): void;
  /** True when `err` is a rejection of the layer's own error type. */
  accepts(err: unknown): boolean;
  /** Share of the part's inputs (default 1: an even share). */
  readonly weight?: number;
}

/** A decode slower than this, in ms, is a failure even when it ends (the watchdog kills later). */
export const SLOW_MS = 3_000;
/** Settled heap growth over a run, in MiB, that counts as a leak. */
export const LEAK_MB = 96;

const INTERESTING = [0x00, 0x01, 0x17, 0x18, 0x1b, 0x1f, 0x7f, 0x80, 0x81, 0x84, 0xfe, 0xff];
/** Heads that claim huge or endless contents, in CBOR and DER. */
const HOSTILE_HEADS = [
  [0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0x9b, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00],
  [0xbf],
  [0x9f],
  [0x5f],
  [0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
  [0x30, 0x80],
  [0x04, 0x88, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
];

/** A seeded mutator: returns a new input derived from `seed` and `other`. */
export function makeMutator(random: () => number) {
  const int = (n: number) => Math.floor(random() * n);
  const noise = (n: number) => Uint8Array.from({ length: n }, () => int(256));
  return (seed: Uint8Array, other: Uint8Array): Uint8Array => {
    const s = seed.length > 0 ? seed : Uint8Array.of(0);
    const at = int(s.length);
    switch (int(11)) {
      case 0: {
        const out = Uint8Array.from(s);
        for (let k = 1 + int(8); k > 0; k--) out[int(out.length)]! ^= 1 << int(8);
        return out;
      }
      case 1: {
        const out = Uint8Array.from(s);
        for (let k = 1 + int(4); k > 0; k--) out[int(out.length)] = INTERESTING[int(12)]!;
        return out;
      }
      case 2:
        return concat(s.subarray(0, at), noise(1 + int(16)), s.subarray(at));
      case 3:
        return concat(s.subarray(0, at), s.subarray(Math.min(s.length, at + 1 + int(64))));
      case 4:
        return s.slice(0, at);
      case 5: {
        const end = Math.min(s.length, at + 1 + int(256));
        const piece = s.subarray(at, end);
        return concat(s.subarray(0, end), piece, piece, s.subarray(end));
      }
      case 6:
        return concat(s.subarray(0, at), other.subarray(int(Math.max(1, other.length))));
      case 7: {
        const head = Uint8Array.from(HOSTILE_HEADS[int(HOSTILE_HEADS.length)]!);
        return concat(s.subarray(0, at), head, s.subarray(at));
      }
      case 8:
        return noise(int(random() < 0.9 ? 64 : 4096));
      case 9: {
        const out = Uint8Array.from(s);
        const from = int(out.length);
        out.fill(INTERESTING[int(12)]!, from, Math.min(out.length, from + 1 + int(32)));
        return out;
      }
      default:
        return s.slice();
    }
  };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Fuzzes `targets` with `inputs` inputs in all (or until `seconds` pass), under the watchdog.
 *
 * @returns the part's result: inputs fed, failures, per-target rates and slowest decodes
 */
export async function runFuzz(
  part: string,
  targets: readonly FuzzTarget[],
  ctx: PartContext,
  inputs: number,
  seconds: number,
): Promise<PartResult> {
  const result = emptyResult(part);
  const random = seededRandom(ctx.seed);
  const mutate = makeMutator(random);
  const started = performance.now();
  const weights = targets.map((t) => t.weight ?? 1);
  const total = weights.reduce((a, b) => a + b, 0);
  const quotas = weights.map((w) => Math.max(1, Math.round((inputs * w) / total)));
  const deadline = started + seconds * 1000;
  ctx.memory.sample();
  for (const [i, target] of targets.entries()) {
    const quota = quotas[i]!;
    const targetDeadline = started + ((deadline - started) * (i + 1)) / targets.length;
    const t0 = performance.now();
    let done = 0;
    let slowest = 0;
    let rejected = 0;
    for (; done < quota; done++) {
      const seed = target.seeds[Math.floor(random() * target.seeds.length)]!;
      const other = target.seeds[Math.floor(random() * target.seeds.length)]!;
      const input = mutate(seed, other);
      ctx.watch(target.name, input);
      const d0 = performance.now();
      try {
        target.run(input);
      } catch (err) {
        rejected++;
        if (!target.accepts(err)) fail(result, target.name, describeThrown(err), input);
      }
      const ms = performance.now() - d0;
      ctx.unwatch();
      if (ms > slowest) slowest = ms;
      if (ms > SLOW_MS) fail(result, target.name, `decode took ${ms.toFixed(0)} ms`, input);
      if (done % 512 === 511) {
        ctx.memory.sample();
        if (done === 4095 && i === 0) ctx.memory.setBaseline();
        await yieldToLoop();
        if (performance.now() > targetDeadline) {
          done++;
          break;
        }
      }
    }
    const secs = (performance.now() - t0) / 1000;
    result.inputs += done;
    result.figures[`${target.name} inputs`] = done;
    result.figures[`${target.name} inputs/s`] = Math.round(done / Math.max(secs, 1e-3));
    result.figures[`${target.name} rejected %`] = Math.round((100 * rejected) / Math.max(1, done));
    result.figures[`${target.name} slowest ms`] = Number(slowest.toFixed(1));
  }
  const growthMb = ctx.memory.growth() / 2 ** 20;
  result.figures['heap growth MiB'] = Number(growthMb.toFixed(1));
  if (growthMb > LEAK_MB) fail(result, 'memory', `settled heap grew ${growthMb.toFixed(0)} MiB`);
  result.seconds = (performance.now() - started) / 1000;
  result.figures['inputs/s'] = Math.round(result.inputs / Math.max(result.seconds, 1e-3));
  return result;
}
