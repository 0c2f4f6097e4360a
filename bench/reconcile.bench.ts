/**
 * `node --import tsx bench/reconcile.bench.ts [--quick]`: what a two-way reconcile costs.
 *
 * For stores of n entries that differ in d entries (half only on one side, half only on
 * the other), it runs the reconcile of protocol/reconcile over the flight model of
 * protocol/testing/sync-loop.ts (full duplex; every message through the real wire codec)
 * and prints, per (n, d): discovery bytes each way (hello included; entries apart), the
 * same per difference, round trips (mean and worst over trials, and the share that ended in
 * 1.5), CPU time (process CPU, not wall time) of both sides, the information-theoretic lower bound d*log2(e*n/d) bits,
 * and the bytes of a naive exchange of full fingerprint lists. Building the stores is not
 * timed. `--quick` uses n = 1,000 and 5,000 and fewer trials. Writes
 * bench/out/reconcile.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256 } from '@noble/hashes/sha2.js';
import type { Entry } from '../protocol/merge/entry.ts';
import { EVICT_ANY, MemoryStore } from '../protocol/merge/memory-store.ts';
import { runSync } from '../protocol/testing/sync-loop.ts';
import { assertSameContent } from '../protocol/testing/store-assertions.ts';

const quick = process.argv.includes('--quick');
const SIZES = quick ? [1_000, 5_000] : [1_000, 100_000];
const DIFFS = [0, 1, 3, 10, 30, 100, 300, 1_000];
const trialsFor = (n: number): number => (quick ? 3 : n >= 100_000 ? 8 : 30);
/** Bytes of a certificate's DER in the entries that differ (a typical S/MIME certificate). */
const DER_BYTES = 1_200;

/** CPU time of this process (user and system), in ms: robust on a shared, busy machine. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** A seeded xorshift32 stream: the benchmark's only randomness. */
function randomStream(seed: number): (out: Uint8Array) => Uint8Array {
  let s = seed >>> 0 || 1;
  return (out) => {
    for (let i = 0; i < out.length; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      out[i] = s & 0xff;
    }
    return out;
  };
}

function origin(n: number): Uint8Array {
  const o = new Uint8Array(16);
  o[0] = 0xbe;
  o[15] = n;
  return o;
}

function entry(
  fill: (b: Uint8Array) => Uint8Array,
  derBytes: number,
  from: Uint8Array,
  clock: number,
): Entry {
  const der = fill(new Uint8Array(derBytes));
  return {
    kind: 'cert',
    fingerprint: sha256(der),
    deleted: false,
    clock,
    origin: from,
    der,
    meta: { label: null, pinned: false },
  };
}

/** Two stores sharing n - d/2 - d/2 entries, each with its own half of the d others. */
function buildPair(n: number, d: number, seed: number): [MemoryStore, MemoryStore] {
  const fill = randomStream(seed);
  const a = new MemoryStore({ origin: origin(1) });
  const b = new MemoryStore({ origin: origin(2) });
  const onlyA = Math.ceil(d / 2);
  const onlyB = d - onlyA;
  const shared = n - onlyA;
  const base = origin(9);
  for (let i = 0; i < shared; i++) {
    const e = entry(fill, 24, base, i + 1);
    a.apply(e, EVICT_ANY);
    b.apply(e, EVICT_ANY);
  }
  for (let i = 0; i < onlyA; i++) a.apply(entry(fill, DER_BYTES, origin(1), n + i), EVICT_ANY);
  for (let i = 0; i < onlyB; i++) b.apply(entry(fill, DER_BYTES, origin(2), n + i), EVICT_ANY);
  return [a, b];
}

/** Bytes each way of a naive exchange: every 32-byte fingerprint, 100 per frame. */
function naiveBytes(n: number): number {
  const perFrame = 100;
  const frames = Math.max(1, Math.ceil(n / perFrame));
  return n * (32 + 2) + frames * 8;
}

/** The lower bound d*log2(e*n/d) bits, in bytes. */
function lowerBoundBytes(n: number, d: number): number {
  return d === 0 ? 0 : (d * Math.log2((Math.E * n) / d)) / 8;
}

interface Row {
  n: number;
  d: number;
  trials: number;
  helloBytes: number;
  discoveryAtoB: number;
  discoveryBtoA: number;
  perDiffEachWay: number | null;
  perDiffBeyondHello: number | null;
  entryBytes: number;
  roundTripsMean: number;
  roundTripsMax: number;
  oneAndHalfShare: number;
  cpuMs: number;
  lowerBoundBytes: number;
  naiveBytesEachWay: number;
  naiveRoundTrips: number;
}

const rows: Row[] = [];
for (const n of SIZES) {
  for (const d of DIFFS) {
    const trials = trialsFor(n);
    let hello = 0,
      ab = 0,
      ba = 0,
      ent = 0,
      rt = 0,
      rtMax = 0,
      within = 0,
      cpu = 0;
    for (let t = 0; t < trials; t++) {
      const [a, b] = buildPair(n, d, 0x5eed + 7919 * t + d);
      const run = runSync(a, b, { now: cpuMs });
      assertSameContent(a, b);
      hello += (run.aToB.hello + run.bToA.hello) / 2;
      ab += run.aToB.hello + run.aToB.discovery;
      ba += run.bToA.hello + run.bToA.discovery;
      ent += run.aToB.entries + run.bToA.entries;
      rt += run.flights / 2;
      rtMax = Math.max(rtMax, run.flights / 2);
      if (run.flights <= 3) within += 1;
      cpu += run.cpuMs;
    }
    const eachWay = Math.max(ab, ba) / trials;
    const row: Row = {
      n,
      d,
      trials,
      helloBytes: hello / trials,
      discoveryAtoB: ab / trials,
      discoveryBtoA: ba / trials,
      perDiffEachWay: d === 0 ? null : eachWay / d,
      perDiffBeyondHello: d === 0 ? null : (eachWay - hello / trials) / d,
      entryBytes: ent / trials,
      roundTripsMean: rt / trials,
      roundTripsMax: rtMax,
      oneAndHalfShare: within / trials,
      cpuMs: cpu / trials,
      lowerBoundBytes: lowerBoundBytes(n, d),
      naiveBytesEachWay: naiveBytes(n),
      naiveRoundTrips: 1,
    };
    rows.push(row);
    process.stderr.write(`reconcile bench: n=${n} d=${d} done\n`);
  }
}

const fmt = (x: number | null, digits = 0): string => (x === null ? '-' : x.toFixed(digits));
const header = [
  'n',
  'd',
  'A->B B',
  'B->A B',
  'B/diff',
  'B/diff>hello',
  'RTT mean',
  'RTT max',
  '<=1.5',
  'CPU ms',
  'bound B',
  'naive B',
];
const table = rows.map((r) => [
  String(r.n),
  String(r.d),
  fmt(r.discoveryAtoB),
  fmt(r.discoveryBtoA),
  fmt(r.perDiffEachWay, 1),
  fmt(r.perDiffBeyondHello, 1),
  fmt(r.roundTripsMean, 2),
  fmt(r.roundTripsMax, 1),
  `${Math.round(r.oneAndHalfShare * 100)}%`,
  fmt(r.cpuMs, 1),
  fmt(r.lowerBoundBytes),
  fmt(r.naiveBytesEachWay),
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
console.log(line(header));
for (const row of table) console.log(line(row));
console.log(
  '\nbytes: discovery each way, hello included, entries apart; bound: d*log2(e*n/d) bits; ' +
    'naive: full 32-byte fingerprint lists each way (1 round trip before entries).',
);

const out = join(dirname(fileURLToPath(import.meta.url)), 'out');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'reconcile.json'), JSON.stringify({ quick, rows }, null, 2));
