/**
 * CPU time of one scheme's reconcile, measured apart from the benchmark's many runs: in
 * the big run, garbage of earlier runs is collected (on other threads too, which process
 * CPU time counts) inside whichever run happens to be timed. A fresh process per scheme
 * builds each case's stores once and reconciles copies of them in memory.
 *
 * The CPU of finding the difference, what sets the schemes apart, is timed directly: both
 * sides run with their entries withheld (scheme.ts, `withholdEntries`), so every discovery
 * frame flows as in a full run and no entry frame is built, sent or applied. Each such run
 * is checked against a full run of the same case: the same discovery bytes and frames each
 * way, and no entry bytes. Full runs are timed too, alternating with the withheld ones, so
 * both meet the same state of the heap; each kind gets one uncounted run first per case.
 *
 * It also times the payload alone, the same for every scheme: the entries that crossed in
 * one full run, each fetched from the sending store (its DER read from the pool), encoded
 * as an entry frame, decoded, checked against its fingerprint and applied to a copy of the
 * receiving store, the least of `trials` replays. A full run costs more than discovery
 * plus this replay: inside a run the entries meet colder caches and the run's own garbage.
 *
 *   node --import tsx bench/lib/cpu-probe.ts <scheme> <pool> <n> <trials> <d,d,...>
 *
 * prints `RESULT {json}`.
 *
 * @throws Error (in the child) when a run with the entries withheld did not do a full run's
 *   discovery
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openCertificatePool } from './certificates.ts';
import { sha256 } from '@noble/hashes/sha2.js';
import { compareBytes, type Entry } from '../../protocol/merge/entry.ts';
import type { ApplyContext } from '../../protocol/merge/store.ts';
import type { BenchStore } from './bench-store.ts';
import { entryFrame, entryOfFrame } from './certsync-scheme.ts';
import { cpuMs, runInMemory, type DirectionCount, type RunResult } from './drive.ts';
import { makeSides } from './measure.ts';
import { SCHEMES, type Outgoing, type SchemeName, type SchemeSide } from './scheme.ts';

import { buildPair } from './store-pairs.ts';

const NO_EVICTION: ApplyContext = Object.freeze({ mayEvict: () => false });

/** CPU time of one scheme on one case, over several trials, in ms. */
export interface CpuProbe {
  readonly scheme: SchemeName;
  readonly n: number;
  readonly d: number;
  /** Finding the difference: runs with the entries withheld, least and median. */
  readonly discoveryMinMs: number;
  readonly discoveryMedianMs: number;
  /** Whole runs, entries included, least and median. */
  readonly minMs: number;
  readonly medianMs: number;
  /** Least CPU time of the payload alone (the entries that crossed), in ms. */
  readonly payloadMs: number;
  readonly trials: number;
}

/**
 * Checks that a run with the entries withheld did all the discovery of a full run of the
 * same case: the same discovery bytes and frames each way, and no entry bytes.
 *
 * @throws Error naming what differs
 */
export function checkWithheld(full: RunResult, withheld: RunResult): void {
  const way = (name: string, f: DirectionCount, w: DirectionCount): void => {
    if (w.payload !== 0 || w.entryFrames !== 0) {
      throw new Error(`${name}: ${w.entryFrames} entry frames with the entries withheld`);
    }
    if (w.discovery !== f.discovery || w.frames !== f.frames - f.entryFrames) {
      throw new Error(
        `${name}: expected the discovery of a full run, ${f.discovery} B in ` +
          `${f.frames - f.entryFrames} frames, got ${w.discovery} B in ${w.frames}`,
      );
    }
  };
  way('a to b', full.aToB, withheld.aToB);
  way('b to a', full.bToA, withheld.bToA);
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
  const sides = (
    a: BenchStore,
    b: BenchStore,
    withholdEntries: boolean,
  ): [SchemeSide, SchemeSide] => makeSides(scheme as SchemeName, a, b, { withholdEntries });
  // A small case first, so the JIT has compiled the scheme before anything counts.
  const [wa, wb] = buildPair(pool, { n: 500, d: 50, deletions: false });
  runInMemory(...sides(wa.copy(), wb.copy(), true));
  runInMemory(...sides(wa, wb, false));
  for (const d of (diffsArg ?? '').split(',').map(Number)) {
    const [a0, b0] = buildPair(pool, { n, d, deletions: false });
    const discovery: number[] = [];
    const whole: number[] = [];
    let sent: [Uint8Array[], Uint8Array[]] = [[], []];
    const fullRun = (): RunResult => {
      const run = recording(sides(a0.copy(), b0.copy(), false));
      const r = runInMemory(...run.sides);
      sent = run.sent;
      return r;
    };
    const withheldRun = (): RunResult => runInMemory(...sides(a0.copy(), b0.copy(), true));
    // Trial 0 of each kind is not counted: the first of a case pays for compiling its
    // paths. The two kinds alternate, each going first every other trial, so that neither
    // collects more of the other's garbage.
    for (let t = 0; t <= trials; t++) {
      let full: RunResult;
      let withheld: RunResult;
      if (t % 2 === 0) {
        withheld = withheldRun();
        full = fullRun();
      } else {
        full = fullRun();
        withheld = withheldRun();
      }
      checkWithheld(full, withheld);
      if (t > 0) {
        discovery.push(withheld.cpuMs);
        whole.push(full.cpuMs);
      }
    }
    discovery.sort((x, y) => x - y);
    whole.sort((x, y) => x - y);
    const payload: number[] = [];
    for (let t = 0; t <= trials; t++) {
      const ms = replayPayload([a0, b0], sent);
      if (t > 0) payload.push(ms);
    }
    const median = (xs: number[]): number => xs[Math.floor(xs.length / 2)] as number;
    out.push({
      scheme: scheme as SchemeName,
      n,
      d,
      discoveryMinMs: discovery[0] as number,
      discoveryMedianMs: median(discovery),
      minMs: whole[0] as number,
      medianMs: median(whole),
      payloadMs: Math.min(...payload),
      trials,
    });
  }
  pool.close();
  console.log(`RESULT ${JSON.stringify(out)}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
