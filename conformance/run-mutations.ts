/**
 * Broken runs for the mutants of conformance/mutants.ts: wrappers of certsync's reconciler
 * (the adapter's `reconciler` hook) that change each run of spec/reconcile.md 9.2 as it
 * starts. The runs are internal to protocol/reconcile/, so these reach into them by the
 * names the reference gives its fields (`syndromeRun`, `cellRun`, `estimate`, and a run's
 * `schedule`, `sent`, `checkpoint`, `own`, `peer`, `decodeAt`); a rename there shows up as a
 * mutant that is no longer caught, which conformance.test.ts reports.
 */
import type { ReconcileMessage } from '../protocol/reconcile/messages.ts';
import type { Reconciler } from '../protocol/reconcile/reconciler.ts';
import type { RunSchedule } from '../protocol/reconcile/sketch-run.ts';
import { add } from '../protocol/reconcile/gf48.ts';
import { decodeDifference } from '../protocol/reconcile/syndrome-sketch.ts';
import type { SessionReconciler } from '../protocol/session/store-view.ts';

/** What a mutation reaches in one run. */
interface RunInternals {
  schedule: RunSchedule;
  sent: number;
  checkpoint: number;
  own: Float64Array;
  peer: Float64Array;
  decodeAt: (at: number) => readonly number[] | null;
  begin(): ReconcileMessage[];
}

/** What a mutation reaches in the reconciler. */
interface ReconcilerInternals {
  syndromeRun: RunInternals | null;
  cellRun: RunInternals | null;
  estimate: number;
}

type Kind = 'syndromes' | 'cells';

/**
 * Calls `change` on each run as it starts; when it returns messages, they replace the
 * run's first units.
 */
function onEachRun(
  change: (run: RunInternals, kind: Kind, r: ReconcilerInternals) => ReconcileMessage[] | null,
): (r: Reconciler) => SessionReconciler {
  return (real) => {
    const inner = real as unknown as ReconcilerInternals;
    const seen = new Set<RunInternals>();
    const after = (out: readonly ReconcileMessage[]): readonly ReconcileMessage[] => {
      let result = out;
      for (const [kind, run] of [
        ['syndromes', inner.syndromeRun],
        ['cells', inner.cellRun],
      ] as const) {
        if (run === null || seen.has(run)) continue;
        seen.add(run);
        const first = change(run, kind, inner);
        if (first) result = [...result.filter((m) => m.type !== kind), ...first];
      }
      return result;
    };
    return new Proxy(real as unknown as SessionReconciler, {
      get(target, key, receiver) {
        if (key === 'begin') return (d: Uint8Array) => after(real.begin(d));
        if (key === 'receive') return (m: ReconcileMessage) => after(real.receive(m));
        const v: unknown = Reflect.get(target, key, receiver);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  };
}

/** Starts `run` again from its first units under `schedule`. */
function restart(run: RunInternals, schedule: RunSchedule): ReconcileMessage[] {
  run.schedule = schedule;
  run.checkpoint = schedule.first;
  run.sent = 0;
  return run.begin();
}

/** Runs that send no lookahead: own units only up to the checkpoint waited for. */
export const withoutLookahead = onEachRun((run) => restart(run, { ...run.schedule, lookahead: 0 }));

/**
 * Cell runs on the batch schedule of an earlier draft: [0, 2e + 3), then a quarter more at
 * a time, no lookahead (e the estimate, 64 at least after syndromes).
 */
export const cellsInOldBatches = onEachRun((run, kind, r) => {
  if (kind !== 'cells') return null;
  const e = r.syndromeRun === null ? r.estimate : Math.max(r.estimate, 64);
  const first = Math.min(run.schedule.cap, 2 * e + 3);
  return restart(run, { first, chunk: Math.ceil(first / 4), cap: run.schedule.cap, lookahead: 0 });
});

/** Syndrome runs that decode t syndromes with m = t: no check syndrome. */
export const decodesWithoutCheck = onEachRun((run, kind) => {
  if (kind !== 'syndromes') return null;
  run.decodeAt = (at) => {
    const diff = new Float64Array(at);
    for (let i = 0; i < at; i++) diff[i] = add(run.own[i] as number, run.peer[i] as number);
    return decodeDifference(diff, at);
  };
  return null;
});
