/**
 * Peak memory of one reconcile, measured apart from the benchmark's many runs (whose
 * process keeps garbage and store copies of earlier runs): a fresh process builds the two
 * stores of one case, notes its resident set, runs one scheme in memory, and reports the
 * process's highest resident set. Both stores live in that one process, as both sides of
 * the in-memory run do; a device holds one.
 *
 *   node --import tsx bench/lib/memory-probe.ts <scheme> <pool> <n> <d>
 *
 * prints `RESULT {json}`.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openCertificatePool } from './certificates.ts';
import { runInMemory } from './drive.ts';
import { makeSides } from './measure.ts';
import { SCHEMES, type SchemeName } from './scheme.ts';
import { buildPair } from './store-pairs.ts';

/** What a probe found, in MiB of resident set. */
export interface MemoryProbe {
  readonly scheme: SchemeName;
  readonly n: number;
  readonly d: number;
  /** Live heap and buffers after building both stores and collecting garbage. */
  readonly storesHeapMB: number;
  /** Resident set then. */
  readonly storesRssMB: number;
  /** Highest live heap and buffers sampled during the reconcile (per flight). */
  readonly reconcileHeapMB: number;
  /** The process's highest resident set over its life, store building included. */
  readonly peakRssMB: number;
}

/**
 * Runs one probe in a child process.
 *
 * @throws Error when the child fails
 */
export function probeMemory(scheme: SchemeName, pool: number, n: number, d: number): MemoryProbe {
  const r = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      'tsx',
      fileURLToPath(import.meta.url),
      scheme,
      String(pool),
      String(n),
      String(d),
    ],
    { encoding: 'utf8' },
  );
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (r.status !== 0 || line === undefined) {
    throw new Error(`memory probe ${scheme} failed (${r.status}): ${r.stderr.slice(-1500)}`);
  }
  return JSON.parse(line.slice(7)) as MemoryProbe;
}

function main(): void {
  const [scheme, poolArg, nArg, dArg] = process.argv.slice(2);
  if (!SCHEMES.includes(scheme as SchemeName)) {
    throw new TypeError(`expected a scheme of ${SCHEMES.join(', ')}, got ${scheme}`);
  }
  const pool = openCertificatePool(Number(poolArg));
  const n = Number(nArg);
  const d = Number(dArg);
  const [a, b] = buildPair(pool, { n, d, deletions: false });
  const heap = (): number => {
    const m = process.memoryUsage();
    // external already counts the array buffers.
    return (m.heapUsed + m.external) / 2 ** 20;
  };
  // Started with --expose-gc by probeMemory; without it the figures include garbage.
  (globalThis as { gc?: () => void }).gc?.();
  const storesHeapMB = heap();
  const storesRssMB = process.memoryUsage.rss() / 2 ** 20;
  const [sa, sb] = makeSides(scheme as SchemeName, a, b);
  let reconcileHeapMB = heap();
  runInMemory(sa, sb, 256, () => (reconcileHeapMB = Math.max(reconcileHeapMB, heap())));
  pool.close();
  const probe: MemoryProbe = {
    scheme: scheme as SchemeName,
    n,
    d,
    storesHeapMB,
    storesRssMB,
    reconcileHeapMB,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  };
  console.log(`RESULT ${JSON.stringify(probe)}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
