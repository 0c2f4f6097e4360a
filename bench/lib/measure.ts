/**
 * One benchmark case end to end: builds the two stores once, runs every scheme on a copy
 * of them in memory and over every link, checks that each run leaves both stores equal and
 * that all schemes and links end with the same content, and returns one row per run.
 */
import { toHex } from '../../protocol/merge/entry.ts';
import type { BenchStore } from './bench-store.ts';
import type { CertificatePool } from './certificates.ts';
import { CertsyncSide, countStore } from './certsync-scheme.ts';
import { runInMemory, runOverLink, type RunResult } from './drive.ts';
import { openLink, type LinkName } from './link-setups.ts';
import { NaiveSide, NegentropySide } from './other-schemes.ts';
import type { SchemeName, SchemeSide, SideOptions } from './scheme.ts';
import { buildPair, type PairSpec } from './store-pairs.ts';

/** Where a run goes: in memory, or over a link model. */
export type Target = 'memory' | LinkName;

/** One measured run. */
export interface RunRow {
  readonly n: number;
  readonly d: number;
  readonly deletions: boolean;
  readonly target: Target;
  readonly scheme: SchemeName;
  readonly flights: number;
  readonly roundTrips: number;
  /** Discovery bytes each way (everything but entries), and entry bytes each way. */
  readonly discoveryAtoB: number;
  readonly discoveryBtoA: number;
  readonly payloadAtoB: number;
  readonly payloadBtoA: number;
  /** Virtual link time until both sides finished; null in memory. */
  readonly linkMs: number | null;
  readonly cpuMs: number;
  readonly peakRssMB: number;
  /** Store entries brought in step per second: n / link time (in memory: n / CPU time). */
  readonly certsPerSecond: number;
  /** Entry bytes per second while entries flowed, as a share of the link's raw capacity:
   * the busier direction on a full-duplex link, both on a half-duplex one; null without
   * entries or in memory. */
  readonly bulkShare: number | null;
  /** The digest root both stores ended with (hex), the same for every scheme and link. */
  readonly root: string;
}

/** The two sides of `scheme` over stores `a` (initiator where it matters) and `b`. */
export function makeSides(
  scheme: SchemeName,
  a: BenchStore,
  b: BenchStore,
  options: SideOptions = {},
): [SchemeSide, SchemeSide] {
  switch (scheme) {
    case 'certsync':
      return [
        new CertsyncSide(a, countStore(a), options),
        new CertsyncSide(b, countStore(b), options),
      ];
    case 'negentropy':
      return [new NegentropySide(a, true, options), new NegentropySide(b, false, options)];
    case 'naive':
      return [new NaiveSide(a, options), new NaiveSide(b, options)];
  }
}

function bulkShare(r: RunResult, capacity: number, duplex: 'full' | 'half'): number | null {
  const rate = (bytes: number, from: number | null, to: number | null): number | null =>
    bytes > 0 && from !== null && to !== null && to > from ? (1000 * bytes) / (to - from) : null;
  const ab = rate(r.aToB.payload, r.aToB.firstPayloadSentMs, r.aToB.lastPayloadReceivedMs);
  const ba = rate(r.bToA.payload, r.bToA.firstPayloadSentMs, r.bToA.lastPayloadReceivedMs);
  if (ab === null && ba === null) return null;
  if (duplex === 'full') return Math.max(ab ?? 0, ba ?? 0) / capacity;
  const from = Math.min(
    r.aToB.firstPayloadSentMs ?? Infinity,
    r.bToA.firstPayloadSentMs ?? Infinity,
  );
  const to = Math.max(r.aToB.lastPayloadReceivedMs ?? 0, r.bToA.lastPayloadReceivedMs ?? 0);
  return (1000 * (r.aToB.payload + r.bToA.payload)) / (to - from) / capacity;
}

/**
 * Runs `schemes` over `targets` for one case.
 *
 * @throws Error when a run leaves the two stores different, or two runs disagree on the
 *   final content
 */
export async function runCase(
  pool: CertificatePool,
  spec: PairSpec,
  targets: readonly Target[],
  schemes: readonly SchemeName[],
): Promise<RunRow[]> {
  const [a0, b0] = buildPair(pool, spec);
  const rows: RunRow[] = [];
  let agreed: string | null = null;
  for (const target of targets) {
    for (const scheme of schemes) {
      const a = a0.copy();
      const b = b0.copy();
      const [sa, sb] = makeSides(scheme, a, b);
      let r: RunResult;
      let capacity = 0;
      let duplex: 'full' | 'half' = 'full';
      if (target === 'memory') {
        r = runInMemory(sa, sb);
      } else {
        const link = openLink(target);
        capacity = link.capacity;
        duplex = link.duplex;
        try {
          r = await runOverLink(sa, sb, link.a, link.b, { clock: link.clock });
        } finally {
          await link.close();
        }
      }
      const rootA = toHex(a.digest().root);
      const rootB = toHex(b.digest().root);
      const where = `${scheme} over ${target}, n=${spec.n} d=${spec.d}`;
      if (rootA !== rootB) throw new Error(`${where}: the two stores differ afterwards`);
      if (agreed !== null && agreed !== rootA) throw new Error(`${where}: differs from other runs`);
      agreed = rootA;
      const seconds = (r.linkMs ?? r.cpuMs) / 1000;
      rows.push({
        n: spec.n,
        d: spec.d,
        deletions: spec.deletions,
        target,
        scheme,
        flights: r.flights,
        roundTrips: r.roundTrips,
        discoveryAtoB: r.aToB.discovery,
        discoveryBtoA: r.bToA.discovery,
        payloadAtoB: r.aToB.payload,
        payloadBtoA: r.bToA.payload,
        linkMs: r.linkMs,
        cpuMs: r.cpuMs,
        peakRssMB: r.peakRssBytes / 2 ** 20,
        certsPerSecond: seconds > 0 ? spec.n / seconds : 0,
        bulkShare: target === 'memory' ? null : bulkShare(r, capacity, duplex),
        root: rootA,
      });
    }
  }
  return rows;
}
