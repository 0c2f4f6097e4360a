/**
 * CPU time of one scheme's reconcile, measured apart from the benchmark's many runs: in
 * the big run, garbage of earlier runs is collected (on other threads too, which process
 * CPU time counts) inside whichever run happens to be timed. A fresh process per scheme
 * builds each case's stores once, reconciles copies of them `trials` times in memory (after
 * one run that is not counted), and reports the least and the median CPU time per case.
 *
 * It also times the payload alone, the same for every scheme: the entries that crossed in
 * one run, each fetched from the sending store (its DER read from the pool), encoded as an
 * entry frame, decoded, checked against its fingerprint and applied to a copy of the
 * receiving store, the least of `trials` replays. A run's CPU less that is the CPU of
 * finding the difference: what sets the schemes apart.
 *
 *   node --import tsx bench/lib/cpu-probe.ts <scheme> <pool> <n> <trials> <d,d,...>
 *
 * prints `RESULT {json}`.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openCertificatePool } from './certificates.ts';
import { sha256 } from '@noble/hashes/sha2.js';
import { compareBytes, type Entry } from '../../protocol/merge/entry.ts';
import type { ApplyContext } from '../../protocol/merge/store.ts';
import type { BenchStore } from './bench-store.ts';
import { entryFrame, entryOfFrame } from './certsync-scheme.ts';
import { cpuMs, runInMemory } from './drive.ts';
import { makeSides } from './measure.ts';
import { SCHEMES, type Outgoing, type SchemeName, type SchemeSide } from './scheme.ts';

const NO_EVICTION: ApplyContext = Object.freeze({ mayEvict: () => false });
import { buildPair } from './store-pairs.ts';

/** CPU time of one scheme on one case, over several trials, in ms. */
export interface CpuProbe {
  readonly scheme: SchemeName;
  readonly n: number;
  readonly d: number;
  readonly minMs: number;
  readonly medianMs: number;
  /** Least CPU time of the payload alone (the entries that crossed), in ms. */
  readonly payloadMs: number;
  readonly trials: number;
}

/** The sides of a run, with every entry frame each one sent kept for the payload replay. */
function recording(sides: [SchemeSide, SchemeSide]): {
  sides: [SchemeSide, SchemeSide];
  sent: [Uint8Array[], Uint8Array[]];
} {
  const sent: [Uint8Array[], Uint8Array[]] = [[], []];
  const wrap = (side: SchemeSide, into: Uint8Array[]): SchemeSide => {
    const keep = (outs: Outgoing[]): Outgoing[] => {
      for (const o of outs) if (o.payload) into.push(o.frame);
      return outs;
    };
    return {
      start: () => keep(side.start()),
      receive: (frame) => keep(side.receive(frame)),
      get finished() {
        return side.finished;
      },
    };
  };
  return { sides: [wrap(sides[0], sent[0]), wrap(sides[1], sent[1])], sent };
}

/** CPU ms of the payload of one run: fetch, encode, decode, check and apply every entry. */
function replayPayload(
  stores: [BenchStore, BenchStore],
  sent: [Uint8Array[], Uint8Array[]],
): number {
  const entries = sent.map((frames) => frames.map((f) => entryOfFrame(f)));
  const receivers = [stores[1].copy(), stores[0].copy()];
  const t0 = cpuMs();
  for (let side = 0; side < 2; side++) {
    const from = stores[side] as BenchStore;
    const to = receivers[side] as BenchStore;
    for (const e of entries[side] as Entry[]) {
      const full = e.deleted ? e : (from.get(e.kind, e.fingerprint) ?? e);
      const got = entryOfFrame(entryFrame(full));
      if (got.der !== null && compareBytes(sha256(got.der), got.fingerprint) !== 0) {
        throw new Error('payload replay: an entry whose DER does not match its fingerprint');
      }
      to.apply(got, NO_EVICTION);
    }
  }
  return cpuMs() - t0;
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
    let sent: [Uint8Array[], Uint8Array[]] = [[], []];
    // One run more than counted: the first of each case pays for compiling its paths.
    for (let t = 0; t <= trials; t++) {
      const run = recording(makeSides(scheme as SchemeName, a0.copy(), b0.copy()));
      const ms = runInMemory(...run.sides).cpuMs;
      if (t > 0) times.push(ms);
      sent = run.sent;
    }
    times.sort((x, y) => x - y);
    const payload: number[] = [];
    for (let t = 0; t <= trials; t++) {
      const ms = replayPayload([a0, b0], sent);
      if (t > 0) payload.push(ms);
    }
    out.push({
      scheme: scheme as SchemeName,
      n,
      d,
      minMs: times[0] as number,
      medianMs: times[Math.floor(times.length / 2)] as number,
      payloadMs: Math.min(...payload),
      trials,
    });
  }
  pool.close();
  console.log(`RESULT ${JSON.stringify(out)}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
