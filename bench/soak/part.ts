/**
 * What every soak part shares: the budget it runs under, what it reports, and where it
 * saves the inputs that broke something. A part is a function of a {@link PartContext}
 * that returns a {@link PartResult}; the runner (run.ts) starts each in its own process so
 * that a hang or a crash in one is caught and reported without losing the others.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MemorySampler } from './watchdog.ts';

const DEFAULT_OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'out', 'soak');

/** The folder failing inputs are saved in: bench/out/soak/, or `$CERTSYNC_SOAK_OUT`. */
export function soakOut(): string {
  return process.env.CERTSYNC_SOAK_OUT || DEFAULT_OUT;
}

/** How much work each part does. `tiny` is for the test suite, `quick` for CI. */
export interface Budget {
  readonly name: string;
  /** Fuzz inputs over all decoders together (spread by each fuzz part over its targets). */
  readonly fuzzInputs: number;
  /** Wall-clock cap on all fuzzing, in seconds; the input count stops earlier if reached. */
  readonly fuzzSeconds: number;
  /** Random byte offsets to cut a sync at, beyond every message boundary. */
  readonly randomCuts: number;
  /** Cut at most this many message boundaries (every one at full budget). */
  readonly boundaryCuts: number;
  /** `kill -9` runs. */
  readonly kills: number;
  /** Certificate-sized frames carried per link and bit error rate. */
  readonly noiseFrames: number;
  /** Times each hostile peer script is played. */
  readonly hostileRounds: number;
}

/** The fixed budgets; `<seconds>` scales `quick` to a fuzz time. */
export const BUDGETS: Readonly<Record<'tiny' | 'quick' | 'full', Budget>> = {
  tiny: {
    name: 'tiny',
    fuzzInputs: 20_000,
    fuzzSeconds: 4,
    randomCuts: 1,
    boundaryCuts: 2,
    kills: 1,
    noiseFrames: 6,
    hostileRounds: 1,
  },
  quick: {
    name: 'quick',
    fuzzInputs: 150_000,
    fuzzSeconds: 90,
    randomCuts: 4,
    boundaryCuts: 8,
    kills: 6,
    noiseFrames: 40,
    hostileRounds: 2,
  },
  full: {
    name: 'full',
    fuzzInputs: 1_000_000,
    fuzzSeconds: 3_600,
    randomCuts: 40,
    boundaryCuts: Number.POSITIVE_INFINITY,
    kills: 100,
    noiseFrames: 400,
    hostileRounds: 5,
  },
};

/**
 * Reads `--budget quick|full|tiny|<seconds>`.
 *
 * @throws RangeError for anything else
 */
export function budgetOf(text: string): Budget {
  if (text === 'tiny' || text === 'quick' || text === 'full') return BUDGETS[text];
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new RangeError(`expected a budget of quick, full, tiny or seconds, got ${text}`);
  }
  const q = BUDGETS.quick;
  const scale = seconds / q.fuzzSeconds;
  return {
    ...q,
    name: `${seconds}s`,
    fuzzSeconds: seconds,
    fuzzInputs: Math.max(1_000, Math.round(q.fuzzInputs * scale * 4)),
  };
}

/** Options that take a value, and flags. */
const WITH_VALUE = ['--budget', '--seed', '--json', '--only', '--part', '--result'];
const FLAGS = ['--quick'];

function checkArgs(args: readonly string[]): void {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (WITH_VALUE.includes(a)) {
      if (args[i + 1] === undefined) throw new RangeError(`expected a value after ${a}, got none`);
      i++;
    } else if (!FLAGS.includes(a)) {
      throw new RangeError(`expected one of ${[...WITH_VALUE, ...FLAGS].join(', ')}, got ${a}`);
    }
  }
}

/**
 * The runner's arguments checked, and the budget they name: `--budget NAME`, or `--quick`
 * (the CI run); quick by default.
 *
 * @throws RangeError for an option the runner does not know, a missing value, or both
 *   `--quick` and another `--budget`
 */
export function budgetNameOf(args: readonly string[]): string {
  checkArgs(args);
  const at = args.indexOf('--budget');
  const named = at >= 0 ? args[at + 1] : undefined;
  if (args.includes('--quick') && named !== undefined && named !== 'quick') {
    throw new RangeError(`expected --quick or --budget, got both (--budget ${named})`);
  }
  return named ?? 'quick';
}

/** One thing that went wrong, with the input that caused it when there is one. */
export interface Failure {
  readonly target: string;
  readonly what: string;
  /** The file the input was saved in, as hex. */
  readonly saved?: string;
}

/** What a part reports. Counters a part does not use stay 0. */
export interface PartResult {
  readonly part: string;
  inputs: number;
  cuts: number;
  kills: number;
  framesDamaged: number;
  failures: Failure[];
  /** Failures found beyond the ones listed (the list is capped). */
  moreFailures: number;
  peakRssMb: number;
  peakHeapMb: number;
  seconds: number;
  /** Further figures, named for what they measure. */
  figures: Record<string, number | string>;
}

/** What a part is given. */
export interface PartContext {
  readonly budget: Budget;
  readonly seed: number;
  readonly memory: MemorySampler;
  /** Marks the start and end of one input for the watchdog (see watchdog.ts). */
  readonly watch: (target: string, input: Uint8Array) => void;
  readonly unwatch: () => void;
}

/** A new, empty result for `part`. */
export function emptyResult(part: string): PartResult {
  return {
    part,
    inputs: 0,
    cuts: 0,
    kills: 0,
    framesDamaged: 0,
    failures: [],
    moreFailures: 0,
    peakRssMb: 0,
    peakHeapMb: 0,
    seconds: 0,
    figures: {},
  };
}

/** Failures listed (and inputs saved) per target; the rest are only counted. */
const LISTED_PER_TARGET = 4;

/**
 * Records a failure; saves `input` as hex under bench/out/soak/ (the first few per target).
 * The count per target is kept in `figures` as `<target> failures`.
 */
export function fail(result: PartResult, target: string, what: string, input?: Uint8Array) {
  const key = `${target} failures`;
  const n = Number(result.figures[key] ?? 0);
  result.figures[key] = n + 1;
  if (n >= LISTED_PER_TARGET) {
    result.moreFailures++;
    return;
  }
  let saved: string | undefined;
  if (input) {
    mkdirSync(soakOut(), { recursive: true });
    const file = `${result.part}-${target}-${n}.hex`.replace(/[^\w.-]/g, '_');
    writeFileSync(join(soakOut(), file), `${Buffer.from(input).toString('hex')}\n`);
    saved = join(soakOut(), file);
  }
  result.failures.push({ target, what: what.slice(0, 300), ...(saved ? { saved } : {}) });
}

/** A short description of a thrown value, for a failure line. */
export function describeThrown(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return `${err.name}${code !== undefined ? `(${String(code)})` : ''}: ${err.message}`;
  }
  return `non-error thrown: ${String(err)}`;
}
