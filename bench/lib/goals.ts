/**
 * The sync benchmark's goals, checked against measured rows at the largest store size of
 * the run: each goal gets the measured figure, the limit, and whether it was met.
 */
import type { RunRow } from './measure.ts';
import type { CpuProbe } from './cpu-probe.ts';
import type { MemoryProbe } from './memory-probe.ts';

/** A row of the theoretical minimum beside the measured rows. */
export interface BoundRow {
  readonly n: number;
  readonly d: number;
  readonly deletions: boolean;
  readonly target: RunRow['target'];
  readonly discoveryEachWay: number;
  readonly roundTrips: number;
  readonly linkMs: number | null;
}

/** One goal's verdict. */
export interface GoalResult {
  readonly goal: string;
  readonly measured: string;
  readonly met: boolean;
}

const worst = <T>(xs: readonly T[], f: (x: T) => number): number =>
  xs.length === 0 ? NaN : Math.max(...xs.map(f));

/**
 * Checks every goal on the rows of store size `n`; `memory` is certsync's memory probe at
 * that size (memory-probe.ts), or null when none ran; `cpu` the CPU probes (cpu-probe.ts).
 */
export function checkGoals(
  rows: readonly RunRow[],
  bounds: readonly BoundRow[],
  n: number,
  memory: MemoryProbe | null,
  cpu: readonly CpuProbe[],
): GoalResult[] {
  const ours = rows.filter((r) => r.n === n && r.scheme === 'certsync');
  const mem = ours.filter((r) => r.target === 'memory');
  const out: GoalResult[] = [];

  const equal = worst(
    mem.filter((r) => r.d === 0),
    (r) => Math.max(r.discoveryAtoB, r.discoveryBtoA),
  );
  out.push({ goal: 'equal stores: <= 100 B each way', measured: `${equal} B`, met: equal <= 100 });

  // Per difference: what a difference adds beyond the equal-store hello (its own goal), on
  // the runs without deletions (a deleted record differs in two versions); the same with
  // the hello included, and the runs with deletions, are shown beside.
  const hello = equal;
  const many = mem.filter((r) => r.d >= 10);
  const each = (r: RunRow): number => Math.max(r.discoveryAtoB, r.discoveryBtoA);
  const plain = many.filter((r) => !r.deletions);
  const perDiff = worst(plain, (r) => (each(r) - hello) / r.d);
  const detail = (rows: readonly RunRow[], f: (r: RunRow) => number): string =>
    rows.map((r) => `d=${r.d} ${f(r).toFixed(1)}`).join(', ');
  out.push({
    goal: 'd 10..1,000: <= 16 B discovery per difference (each way, beyond the hello)',
    measured:
      `${perDiff.toFixed(1)} B worst (${detail(plain, (r) => (each(r) - hello) / r.d)}); ` +
      `hello included: ${detail(plain, (r) => each(r) / r.d)}; with deletions, per ` +
      `differing record: ${detail(
        many.filter((r) => r.deletions),
        (r) => (each(r) - hello) / r.d,
      )}`,
    met: perDiff <= 16,
  });

  const rtts = ours.map((r) => r.roundTrips);
  const over = ours.filter((r) => r.roundTrips > 1.5).length;
  out.push({
    goal: '<= 1.5 round trips',
    measured: `worst ${Math.max(...rtts)}; ${over} of ${ours.length} runs over`,
    met: over === 0,
  });

  const bulk = ours.filter((r) => r.bulkShare !== null && r.d === 1_000 && !r.deletions);
  const lowest = bulk.length === 0 ? NaN : Math.min(...bulk.map((r) => r.bulkShare as number));
  out.push({
    goal: 'bulk transfer >= 90% of each link model capacity (d = 1,000)',
    measured: bulk
      .map((r) => `${r.target} ${(100 * (r.bulkShare as number)).toFixed(1)}%`)
      .join(', '),
    met: lowest >= 0.9,
  });

  const ble = ours.filter((r) => r.target.startsWith('ble') && r.d > 0 && r.linkMs !== null);
  const ratios = ble.map((r) => {
    const b = bounds.find(
      (x) => x.n === r.n && x.d === r.d && x.deletions === r.deletions && x.target === r.target,
    );
    return (r.linkMs as number) / (b?.linkMs ?? NaN);
  });
  const worstRatio = ratios.length === 0 ? NaN : Math.max(...ratios);
  out.push({
    goal: 'BLE model: time <= 1.2 x (payload / bandwidth + 1.5 RTT)',
    measured: `worst ${worstRatio.toFixed(2)} x`,
    met: worstRatio <= 1.2,
  });

  // Finding the difference is what the schemes do differently; the probe times it directly,
  // in runs with the entries (the same entries, encoded, checked and stored by the same
  // code) withheld. Whole runs are shown beside.
  const probe = (scheme: string, d: number): CpuProbe | undefined =>
    cpu.find((c) => c.scheme === scheme && c.n === n && c.d === d);
  const discovery = (c: CpuProbe | undefined): number =>
    c === undefined ? NaN : Math.max(0.01, c.discoveryMinMs);
  const speedups = cpu
    .filter((c) => c.scheme === 'certsync' && c.n === n)
    .map((c) => {
      const neg = probe('negentropy', c.d);
      return {
        d: c.d,
        x: discovery(neg) / discovery(c),
        total: (neg?.minMs ?? NaN) / c.minMs,
      };
    });
  const slowest = speedups.length === 0 ? NaN : Math.min(...speedups.map((r) => r.x));
  out.push({
    goal: 'CPU >= 5 x faster than negentropy (finding the difference; same stores, in memory)',
    measured:
      speedups.map((r) => `d=${r.d} ${r.x.toFixed(1)} x`).join(', ') +
      `; whole runs, with the payload both spend alike: ` +
      speedups.map((r) => `d=${r.d} ${r.total.toFixed(1)} x`).join(', '),
    met: slowest >= 5,
  });

  out.push({
    goal: 'peak memory < 200 MB',
    measured:
      memory === null
        ? 'not probed'
        : `process peak ${memory.peakRssMB.toFixed(0)} MB holding both stores ` +
          `(${memory.storesHeapMB.toFixed(0)} MB live after building them); ` +
          `the reconcile itself added ` +
          `${(memory.reconcileHeapMB - memory.storesHeapMB).toFixed(0)} MB at d = ${memory.d}`,
    met: memory !== null && memory.peakRssMB < 200,
  });
  return out;
}
