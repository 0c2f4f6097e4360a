/**
 * The runner's own model of the runs of spec/reconcile.md 9.2: which run a reconcile starts
 * with, the checkpoints and lookahead of its schedule, and, for two stores the runner knows
 * (its own and the implementation's, which it loaded), the checkpoint at which both sides
 * decode or the cap at which the run gives way. Written from the spec, sharing no code with
 * protocol/reconcile/.
 */
import { CellPeeler, cellsOf, xorCells, type Key } from './reconcile-model.ts';
import { decodesWithin, syndromeDifference } from './syndrome-model.ts';

/** Checkpoints `first`, `first + chunk`, ... up to `cap`, and the lookahead in chunks. */
export interface Schedule {
  readonly first: number;
  readonly chunk: number;
  readonly cap: number;
  readonly lookahead: number;
}

/** The kind of units a run sends. */
export type RunKind = 'syndromes' | 'cells';

/** Most syndromes a run sends (9.2, the table). */
export const SYNDROME_CAP = 64;

/** ceil(a / b) for non-negative integers, in integer arithmetic as 9.2 asks. */
const ceilDiv = (a: number, b: number): number => Math.floor((a + b - 1) / b);

/** The syndrome row of the table of 9.2, or null when it does not apply. */
export function syndromeSchedule(e: number, nA: number, nB: number): Schedule | null {
  const first = ceilDiv(11 * e, 10) + 2;
  if (e > 24 || 2 * first >= nA + nB) return null;
  return { first, chunk: Math.max(2, ceilDiv(e, 4)), cap: SYNDROME_CAP, lookahead: 1 };
}

/** The cell row of the table of 9.2, or null when it does not apply (key lists instead). */
export function cellSchedule(e: number, nA: number, nB: number): Schedule | null {
  const first = ceilDiv(6 * e, 5) + 2;
  const cap = Math.floor((6 * (nA + nB) - 1) / 16);
  if (first >= cap) return null;
  return { first, chunk: Math.max(2, ceilDiv(first, 16)), cap, lookahead: 2 };
}

/** How a reconcile with estimate `e` between stores of `nA` and `nB` records begins. */
export function firstRun(
  e: number,
  nA: number,
  nB: number,
): { kind: RunKind; schedule: Schedule } | null {
  const s = syndromeSchedule(e, nA, nB);
  if (s) return { kind: 'syndromes', schedule: s };
  const c = cellSchedule(e, nA, nB);
  return c ? { kind: 'cells', schedule: c } : null;
}

/** The checkpoint after `c`. */
export const nextCheckpoint = (s: Schedule, c: number): number => Math.min(s.cap, c + s.chunk);

/** How far a side's own units reach while it waits for checkpoint `c`. */
export const reachAt = (s: Schedule, c: number): number =>
  Math.min(s.cap, c + s.lookahead * s.chunk);

/** What a run between two known stores does. */
export interface RunPlan {
  readonly kind: RunKind;
  readonly schedule: Schedule;
  /** Every checkpoint both sides check, in order; the last one decides. */
  readonly checkpoints: readonly number[];
  /** True when the last checkpoint decodes; false when it is the cap, not decoded. */
  readonly decoded: boolean;
  /** The decoded difference (for cells in the order the keys peeled); empty when not decoded. */
  readonly keys: readonly Key[];
}

/**
 * The plan of a run of `kind` between two sides holding `a` and `b`: both decode the same
 * difference units at the same checkpoints, so the first checkpoint that decodes (section
 * 8.1 with m = c − 1, or the incremental peeling of 8.2) ends the run for both.
 */
export function planRun(
  kind: RunKind,
  schedule: Schedule,
  a: readonly Key[],
  b: readonly Key[],
): RunPlan {
  const checkpoints: number[] = [];
  const difference = [...syndromeDifference(a, b)].map((k) => ({
    hi: parseInt(k.slice(0, 6), 16),
    lo: parseInt(k.slice(6), 16),
  }));
  const peeler = new CellPeeler();
  for (let c = schedule.first; ; c = nextCheckpoint(schedule, c)) {
    checkpoints.push(c);
    let decoded: boolean;
    if (kind === 'syndromes') {
      decoded = decodesWithin(difference.length, c - 1);
    } else {
      const from = peeler.size;
      const diff = xorCells(cellsOf(a, c), cellsOf(b, c));
      peeler.extend(diff.subarray(8 * from));
      decoded = peeler.decoded;
    }
    if (decoded || c === schedule.cap) {
      const keys = !decoded ? [] : kind === 'syndromes' ? difference : [...peeler.keys];
      return { kind, schedule, checkpoints, decoded, keys };
    }
  }
}

/**
 * The checkpoint a side waits for once the peer's first `received` units are in: the first
 * checkpoint above `received`, or the deciding one when the run is over by then.
 */
export function waitingAt(plan: RunPlan, received: number): number {
  const last = plan.checkpoints[plan.checkpoints.length - 1] as number;
  return plan.checkpoints.find((c) => c > received) ?? last;
}

/**
 * The most own units a correct side has sent once the peer's first `received` units are
 * in: its reach at the checkpoint it waits for, or, when the run was decided, at the
 * deciding checkpoint (a run that reached its cap has sent the cap).
 */
export function mostSent(plan: RunPlan, received: number): number {
  return reachAt(plan.schedule, waitingAt(plan, received));
}
