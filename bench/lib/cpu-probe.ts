/**
 * CPU time of one scheme's reconcile, measured apart from the benchmark's many runs: in
 * the big run, garbage of earlier runs is collected (on other threads too, which process
 * CPU time counts) inside whichever run happens to be timed. A fresh process per scheme
 * builds each case's stores once, reconciles copies of them `trials` times in memory,
 * and reports the least and the median CPU time per case.
 *
 *   node --import tsx bench/lib/cpu-probe.ts <scheme> <pool> <n> <trials> <d,d,...>
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

/** CPU time of one scheme on one case, over several trials, in ms. */
export interface CpuProbe {
  readonly scheme: SchemeName;
  readonly n: number;
  readonly d: number;
  readonly minMs: number;
  readonly medianMs: number;
  readonly trials: number;
}

/**
 * Runs the probe of `scheme` in a child process for every d of `diffs`.
 *
 * @throws Error when the child fails
 */
export function probeCpu(
  scheme: SchemeName,
  pool: number,
  n: number,
  trials: number,
  diffs: readonly number[],
): CpuProbe[] {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      fileURLToPath(import.meta.url),
      scheme,
      String(pool),
      String(n),
      String(trials),
      diffs.join(','),
    ],
    { encoding: 'utf8' },
  );
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (r.status !== 0 || line === undefined) {
    throw new Error(`CPU probe ${scheme} failed (${r.status}): ${r.stderr.slice(-1500)}`);
  }
  return JSON.parse(line.slice(7)) as CpuProbe[];
}

function main(): void {
  const [scheme, poolArg, nArg, trialsArg, diffsArg] = process.argv.slice(2);
  if (!SCHEMES.includes(scheme as SchemeName)) {
    throw new TypeError(`expected a scheme of ${SCHEMES.join(', ')}, got ${scheme}`);
  }
  const pool = openCertificatePool(Number(poolArg));
  const n = Number(nArg);
  const trials = Number(trialsArg);
  const out: CpuProbe[] = [];
  // A small case first, so the JIT has compiled the scheme before anything counts.
  const [wa, wb] = buildPair(pool, { n: 500, d: 50, deletions: false });
  runInMemory(...makeSides(scheme as SchemeName, wa, wb));
  for (const d of (diffsArg ?? '').split(',').map(Number)) {
    const [a0, b0] = buildPair(pool, { n, d, deletions: false });
    const times: number[] = [];
    for (let t = 0; t < trials; t++) {
      const [sa, sb] = makeSides(scheme as SchemeName, a0.copy(), b0.copy());
      times.push(runInMemory(sa, sb).cpuMs);
    }
    times.sort((x, y) => x - y);
    out.push({
      scheme: scheme as SchemeName,
      n,
      d,
      minMs: times[0] as number,
      medianMs: times[Math.floor(times.length / 2)] as number,
      trials,
    });
  }
  pool.close();
  console.log(`RESULT ${JSON.stringify(out)}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
