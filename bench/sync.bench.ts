/**
 * `node --import tsx bench/sync.bench.ts [--quick] [--no-e2e]`: what a two-way reconcile
 * costs on every link, beside the theoretical minimum and two other schemes, on the same
 * stores in the same run (bench/README.md explains every column).
 *
 * Stores of n in {100; 10,000; 100,000} certificates of 1.1 to 2 kB (bench/lib/
 * certificates.ts, cached in bench/.cache), d in {0; 1; 10; 100; 1,000} differences split
 * over both sides, without and with deletions. Each n runs in a child process of its own,
 * so its peak memory is its own. Per case: certsync, negentropy (written from its protocol
 * description, bench/lib/negentropy.ts) and naive full id lists, in memory and over the link
 * models (BLE 1M and 2M at 30 ms, serial 115,200 with certsync's serial framing, IrDA SIR
 * 115,200 with IrLAP), every run checked to leave both stores equal and all runs to agree.
 * Then end to end in two processes over a socat pty pair and over btvirt.
 *
 * `--quick` (CI smoke): n in {100; 1,000}, memory, BLE 1M and serial only, no end to end.
 * Writes bench/out/sync.json and bench/out/sync.svg.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCertificatePool } from './lib/certificates.ts';
import { runEndToEnd, type EndToEndResult } from './lib/end-to-end.ts';
import { checkGoals, type BoundRow, type GoalResult } from './lib/goals.ts';
import { LINK_NAMES, measureRoundTrip, paramsOf, type LinkName } from './lib/link-setups.ts';
import { discoveryBound, roundTripBound, timeBound } from './lib/lower-bound.ts';
import { runCase, type RunRow, type Target } from './lib/measure.ts';
import { probeMemory } from './lib/memory-probe.ts';
import { probeCpu } from './lib/cpu-probe.ts';
import { SCHEMES } from './lib/scheme.ts';
import { renderChart, type Series } from './lib/svg-chart.ts';
import { rawCapacity } from '../transports/model/link-params.ts';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const child = args.find((a) => a.startsWith('--child='))?.slice(8);
const outArg = args.find((a) => a.startsWith('--out='))?.slice(6);

const SIZES = quick ? [100, 1_000] : [100, 10_000, 100_000];
const DIFFS = [0, 1, 10, 100, 1_000];
const POOL = quick ? 2_000 : 101_000;
const LINKS: readonly LinkName[] = quick ? ['ble-1m-30ms', 'serial-115200'] : LINK_NAMES;
const TARGETS: readonly Target[] = ['memory', ...LINKS];
const CPU_TRIALS = quick ? 3 : 5;

/** What a child process reports for its store size. */
interface ChildReport {
  rows: RunRow[];
  maxRssMB: number;
}

/** Child: every case of one store size. */
async function runSize(n: number): Promise<ChildReport> {
  const pool = openCertificatePool(POOL);
  try {
    // One small case first, so the JIT has compiled every scheme before anything counts.
    await runCase(pool, { n: 200, d: 20, deletions: true }, ['memory'], SCHEMES);
    const rows: RunRow[] = [];
    for (const deletions of [false, true]) {
      for (const d of DIFFS.filter((x) => x <= n)) {
        const t0 = performance.now();
        rows.push(...(await runCase(pool, { n, d, deletions }, TARGETS, SCHEMES)));
        const s = ((performance.now() - t0) / 1000).toFixed(1);
        process.stderr.write(`sync bench: n=${n} d=${d} deletions=${deletions} (${s} s)\n`);
      }
    }
    return { rows, maxRssMB: process.resourceUsage().maxRSS / 1024 };
  } finally {
    pool.close();
  }
}

function boundRows(rows: readonly RunRow[], rtt: ReadonlyMap<LinkName, number>): BoundRow[] {
  return rows
    .filter((r) => r.scheme === 'certsync')
    .map((r) => {
      const link = r.target === 'memory' ? null : r.target;
      const params = link === null ? null : paramsOf(link);
      return {
        n: r.n,
        d: r.d,
        deletions: r.deletions,
        target: r.target,
        discoveryEachWay: discoveryBound(r.n, r.d),
        roundTrips: roundTripBound(r.d),
        linkMs:
          link === null || params === null
            ? null
            : timeBound(
                r.d,
                r.payloadAtoB,
                r.payloadBtoA,
                rawCapacity(params),
                rtt.get(link) as number,
                params.duplex,
              ),
      };
    });
}

const fixed = (x: number | null, digits = 0): string => (x === null ? '-' : x.toFixed(digits));

function printTable(rows: readonly RunRow[], bounds: readonly BoundRow[]): void {
  const header = [
    'n',
    'd',
    'del',
    'link',
    'scheme',
    'RTT',
    'disc A>B',
    'disc B>A',
    'B/diff',
    'pay A>B',
    'pay B>A',
    'link s',
    'CPU ms',
    'RSS MB',
    'certs/s',
    'bulk',
  ];
  const table: string[][] = [];
  for (const r of rows) {
    const disc = Math.max(r.discoveryAtoB, r.discoveryBtoA);
    table.push([
      String(r.n),
      String(r.d),
      r.deletions ? 'y' : 'n',
      r.target,
      r.scheme,
      fixed(r.roundTrips, 1),
      String(r.discoveryAtoB),
      String(r.discoveryBtoA),
      r.d === 0 ? '-' : fixed(disc / r.d, 1),
      String(r.payloadAtoB),
      String(r.payloadBtoA),
      fixed(r.linkMs === null ? null : r.linkMs / 1000, 2),
      fixed(r.cpuMs, 1),
      fixed(r.peakRssMB),
      fixed(r.certsPerSecond),
      r.bulkShare === null ? '-' : `${(100 * r.bulkShare).toFixed(0)}%`,
    ]);
    if (r.scheme === 'naive') {
      const b = bounds.find(
        (x) => x.n === r.n && x.d === r.d && x.deletions === r.deletions && x.target === r.target,
      );
      if (b !== undefined) {
        const c = rows.find(
          (x) =>
            x.scheme === 'certsync' &&
            x.n === r.n &&
            x.d === r.d &&
            x.deletions === r.deletions &&
            x.target === r.target,
        ) as RunRow;
        table.push([
          String(r.n),
          String(r.d),
          r.deletions ? 'y' : 'n',
          r.target,
          'bound',
          fixed(b.roundTrips, 1),
          fixed(b.discoveryEachWay),
          fixed(b.discoveryEachWay),
          r.d === 0 ? '-' : fixed(b.discoveryEachWay / r.d, 1),
          String(c.payloadAtoB),
          String(c.payloadBtoA),
          fixed(b.linkMs === null ? null : b.linkMs / 1000, 2),
          '-',
          '-',
          '-',
          '-',
        ]);
      }
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i]!)).join(' ');
  console.log(line(header));
  for (const row of table) console.log(line(row));
}

const COLORS: Record<string, string> = {
  memory: '#444444',
  'ble-1m-30ms': '#1f77b4',
  'ble-2m-30ms': '#17becf',
  'serial-115200': '#d62728',
  'irda-sir-115200': '#2ca02c',
};
const DASHES: Record<string, string | undefined> = {
  certsync: undefined,
  negentropy: '6 3',
  naive: '2 3',
  bound: '10 3 2 3',
};

function chart(rows: readonly RunRow[], bounds: readonly BoundRow[], n: number): string {
  const diffs = DIFFS.filter((d) => d <= n);
  const pick = (scheme: string, target: Target, d: number): RunRow | undefined =>
    rows.find(
      (r) => r.n === n && !r.deletions && r.scheme === scheme && r.target === target && r.d === d,
    );
  const boundOf = (target: Target, d: number): BoundRow | undefined =>
    bounds.find((b) => b.n === n && !b.deletions && b.target === target && b.d === d);
  const bytes: Series[] = SCHEMES.map((scheme) => ({
    name: `${scheme}`,
    color: scheme === 'certsync' ? '#000000' : scheme === 'negentropy' ? '#9467bd' : '#8c564b',
    dash: DASHES[scheme],
    values: diffs.map((d) => {
      const r = pick(scheme, 'memory', d);
      return r === undefined ? null : Math.max(r.discoveryAtoB, r.discoveryBtoA);
    }),
  }));
  bytes.push({
    name: 'bound',
    color: '#ff7f0e',
    dash: DASHES.bound,
    values: diffs.map((d) => boundOf('memory', d)?.discoveryEachWay ?? null),
  });
  const time: Series[] = [];
  for (const link of LINKS) {
    for (const scheme of [...SCHEMES, 'bound'] as const) {
      time.push({
        name: `${scheme} ${link}`,
        color: COLORS[link] as string,
        dash: DASHES[scheme],
        values: diffs.map((d) => {
          if (scheme === 'bound') return boundOf(link, d)?.linkMs ?? null;
          return pick(scheme, link, d)?.linkMs ?? null;
        }),
      });
    }
  }
  const xTicks = diffs.map(String);
  return renderChart([
    {
      title: `Discovery bytes (busier direction), n = ${n.toLocaleString('en')}`,
      xLabel: 'differences d',
      yLabel: 'bytes',
      xTicks,
      series: bytes,
    },
    {
      title: `Reconcile time on each link model, n = ${n.toLocaleString('en')}`,
      xLabel: 'differences d',
      yLabel: 'virtual link time, ms',
      xTicks,
      series: time,
    },
  ]);
}

async function main(): Promise<void> {
  if (child !== undefined) {
    const report = await runSize(Number(child));
    writeFileSync(outArg as string, JSON.stringify(report));
    return;
  }
  const started = performance.now();
  openCertificatePool(POOL).close();
  const rtt = new Map<LinkName, number>();
  for (const link of LINKS) rtt.set(link, await measureRoundTrip(link));

  const rows: RunRow[] = [];
  const rssByN = new Map<number, number>();
  const scratch = join(tmpdir(), `certsync-sync-bench-${process.pid}.json`);
  try {
    for (const n of SIZES) {
      const r = spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          fileURLToPath(import.meta.url),
          `--child=${n}`,
          `--out=${scratch}`,
          ...(quick ? ['--quick'] : []),
        ],
        { stdio: ['ignore', 'inherit', 'inherit'] },
      );
      if (r.status !== 0) throw new Error(`the run for n=${n} failed (status ${r.status})`);
      const report = JSON.parse(readFileSync(scratch, 'utf8')) as ChildReport;
      rows.push(...report.rows);
      rssByN.set(n, report.maxRssMB);
    }
  } finally {
    rmSync(scratch, { force: true });
  }

  const bounds = boundRows(rows, rtt);
  printTable(rows, bounds);
  console.log(
    '\nRTT: round trips (flights / 2); disc: discovery bytes (all but entries, hello ' +
      'included); pay: entry bytes; bound: d*log2(e*n/d) bits each way, 0.5 / 1.5 RTT, and ' +
      'link time = RTTs + payload at raw capacity. Link round-trip times (64 B there and ' +
      `back): ${[...rtt].map(([k, v]) => `${k} ${v.toFixed(1)} ms`).join(', ')}.`,
  );
  for (const [n, mb] of rssByN)
    console.log(
      `peak RSS of the benchmark process for n=${n} (every run, garbage included): ${mb.toFixed(0)} MB`,
    );

  const biggest = Math.max(...SIZES);
  const probeD = Math.max(...DIFFS.filter((d) => d <= biggest));
  const probes = SCHEMES.map((scheme) => probeMemory(scheme, POOL, biggest, probeD));
  console.log(`\nMemory of one reconcile in a fresh process, n=${biggest} d=${probeD}:`);
  for (const p of probes) {
    console.log(
      `  ${p.scheme}: stores ${p.storesHeapMB.toFixed(0)} MB live, reconcile +` +
        `${(p.reconcileHeapMB - p.storesHeapMB).toFixed(0)} MB, process peak ` +
        `${p.peakRssMB.toFixed(0)} MB RSS`,
    );
  }
  const ours = probes.find((p) => p.scheme === 'certsync') ?? null;
  const diffs = DIFFS.filter((d) => d <= biggest);
  const cpu = SCHEMES.flatMap((scheme) => probeCpu(scheme, POOL, biggest, CPU_TRIALS, diffs));
  console.log(
    `\nCPU ms of one reconcile, least / median of ${CPU_TRIALS} trials in a fresh process ` +
      `per scheme, n=${biggest}, no deletions: finding the difference (entries withheld), ` +
      `then the whole run and in brackets the payload alone (least):`,
  );
  for (const scheme of SCHEMES) {
    const mine = cpu.filter((c) => c.scheme === scheme);
    const ms = (least: number, median: number): string =>
      `${least.toFixed(2)}/${median.toFixed(2)}`;
    const text = mine.map(
      (c) =>
        `d=${c.d} ${ms(c.discoveryMinMs, c.discoveryMedianMs)}; ` +
        `${ms(c.minMs, c.medianMs)} (${c.payloadMs.toFixed(1)})`,
    );
    console.log(`  ${scheme}: ${text.join(', ')}`);
  }
  const goals: GoalResult[] = checkGoals(rows, bounds, biggest, ours, cpu);
  console.log(
    `\nGoals at n = ${biggest.toLocaleString('en')}${quick ? ' (quick run: not the real n)' : ''}:`,
  );
  for (const g of goals) console.log(`  ${g.met ? 'met   ' : 'MISSED'}  ${g.goal}: ${g.measured}`);

  let endToEnd: EndToEndResult[] = [];
  if (!quick && !args.includes('--no-e2e')) {
    endToEnd = await runEndToEnd(POOL, { n: 10_000, d: 100, deletions: false });
    console.log('\nEnd to end, two processes (wall time; not comparable with the models):');
    for (const e of endToEnd) {
      console.log(
        `  ${e.link}: ${
          e.ok
            ? `${(e.wallMs / 1000).toFixed(2)} s, ` +
              `A>B ${e.aToB} B, B>A ${e.bToA} B, stores equal`
            : `not run: ${e.error}`
        }`,
      );
    }
  }

  const out = join(here, 'out');
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, 'sync.json'),
    JSON.stringify(
      {
        quick,
        sizes: SIZES,
        diffs: DIFFS,
        links: LINKS,
        rttMs: Object.fromEntries(rtt),
        peakRssMB: Object.fromEntries(rssByN),
        memory: probes,
        cpu,
        goals,
        rows,
        bounds,
        endToEnd,
      },
      null,
      1,
    ),
  );
  writeFileSync(join(out, 'sync.svg'), chart(rows, bounds, biggest));
  console.log(
    `\n(${((performance.now() - started) / 1000).toFixed(0)} s; wrote bench/out/sync.json, sync.svg)`,
  );
}

await main();
