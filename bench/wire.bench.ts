/**
 * `node --import tsx bench/wire.bench.ts [--quick]`: what the wire codec and the session
 * engine cost (spec/protocol.md).
 *
 * 1. Codec speed: encoding and strictly decoding items batches of 1,200-byte certificates,
 *    beside cbor-x decoding the same frames (which checks no limits and no determinism).
 * 2. Hostile input: time to reject a frame whose length prefix claims 4 GiB, and a
 *    frame-sized run of random bytes.
 * 3. Transfer overhead: a push of n certificates between two engines at frame limits of
 *    4,096 and 65,518 bytes: frames each way, bytes each way beside the DER bytes moved,
 *    and the CPU time of both engines.
 *
 * Writes a table to stdout and bench/out/wire.json. Figures from a busy shared machine
 * vary by a factor of two.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import { Decoder } from 'cbor-x';

import type { Message } from '../protocol/messages/catalog.ts';
import { decodeFrame, encodeMessage } from '../protocol/messages/codec.ts';
import type { Item } from '../protocol/messages/records.ts';
import { exchange, Side, testConfig, type LoggedFrame } from '../protocol/session/harness.ts';
import { MemoryStore } from '../protocol/session/memory-store.ts';
import { DEFAULT_LIMITS, withFrameLimit } from '../protocol/wire/limits.ts';

const quick = process.argv.includes('--quick');
const here = dirname(fileURLToPath(import.meta.url));

function cert(n: number): Item {
  const der = new Uint8Array(1200);
  for (let i = 0; i < der.length; i++) der[i] = (n * 31 + i * 7) & 0xff;
  der.set([0x30, 0x82, 0x04, 0xac, n >> 16, (n >> 8) & 0xff, n & 0xff]);
  return {
    kind: 'cert',
    der,
    label: `Contact ${n}`,
    pinned: false,
    clock: n,
    origin: new Uint8Array(16).fill(3),
    addedAt: 1_764_000_000_000 + n,
    useCount: n % 17,
  };
}

/** Median milliseconds of `fn` over `runs` runs. */
function median(runs: number, fn: () => void): number {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

// 1. Codec speed.
const batch: Message = {
  type: 'items',
  id: 1,
  seq: 0,
  items: Array.from({ length: 50 }, (_, i) => cert(i)),
  tombstones: [],
};
const frame = encodeMessage(1, batch, DEFAULT_LIMITS);
const reps = quick ? 50 : 400;
const mb = (frame.length * reps) / 1e6;
const encodeMs = median(5, () => {
  for (let r = 0; r < reps; r++) encodeMessage(1, batch, DEFAULT_LIMITS);
});
const decodeMs = median(5, () => {
  for (let r = 0; r < reps; r++) decodeFrame(frame, DEFAULT_LIMITS);
});
const reference = new Decoder({ mapsAsObjects: false, useRecords: false });
const cborxMs = median(5, () => {
  for (let r = 0; r < reps; r++) reference.decode(frame);
});

// 2. Hostile input.
const claim = Uint8Array.from([0x83, 0x01, 0x02, 0x7a, 0xff, 0xff, 0xff, 0xff]);
const noise = new Uint8Array(DEFAULT_LIMITS.maxFrameBytes);
for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
/** Microseconds to reject one frame: the median time of 1,000 rejections, in ms. */
const rejectUs = (bytes: Uint8Array) =>
  median(5, () => {
    for (let r = 0; r < 1000; r++) {
      try {
        decodeFrame(bytes, DEFAULT_LIMITS);
      } catch {
        // Rejection is the measured path.
      }
    }
  });

// 3. Transfer overhead.
function push(n: number, frameLimit: number) {
  const aStore = new MemoryStore();
  const ids = Array.from({ length: n }, (_, i) => aStore.put(cert(i + 1)));
  const limits = withFrameLimit(DEFAULT_LIMITS, frameLimit);
  const a = new Side('a', testConfig({ limits }), { store: aStore });
  const b = new Side('b', testConfig({ limits }), { store: new MemoryStore() });
  a.feed({ kind: 'start', now: 0 });
  b.feed({ kind: 'start', now: 0 });
  exchange(a, b, 0);
  const log: LoggedFrame[] = [];
  const t0 = performance.now();
  a.command(1, { op: 'push', mode: 'add', ids });
  exchange(a, b, 1, log);
  const cpuMs = performance.now() - t0;
  const sum = (from: string) =>
    log.filter((l) => l.from === from).reduce((s, l) => s + l.frame.length, 0);
  const count = (from: string) => log.filter((l) => l.from === from).length;
  return {
    n,
    frameLimit,
    framesAtoB: count('a'),
    framesBtoA: count('b'),
    bytesAtoB: sum('a'),
    bytesBtoA: sum('b'),
    derBytes: n * 1200,
    cpuMs,
  };
}

const sizes = quick ? [100, 1000] : [100, 1000, 5000];
const transfers = sizes.flatMap((n) => [push(n, 4096), push(n, 65_518)]);

const result = {
  codec: {
    frameBytes: frame.length,
    encodeMBps: mb / (encodeMs / 1000),
    decodeMBps: mb / (decodeMs / 1000),
    cborxDecodeMBps: mb / (cborxMs / 1000),
  },
  hostile: { claim4GiBMicros: rejectUs(claim), randomFrameMicros: rejectUs(noise) },
  transfers,
};

console.log('Codec, one items frame of 50 certificates of 1,200 bytes');
console.log(`  frame ${frame.length} bytes`);
console.log(`  encode          ${result.codec.encodeMBps.toFixed(0).padStart(6)} MB/s`);
console.log(`  strict decode   ${result.codec.decodeMBps.toFixed(0).padStart(6)} MB/s`);
console.log(`  cbor-x decode   ${result.codec.cborxDecodeMBps.toFixed(0).padStart(6)} MB/s`);
console.log('\nHostile input, time to reject one frame');
console.log(`  length prefix claiming 4 GiB   ${result.hostile.claim4GiBMicros.toFixed(2)} µs`);
console.log(`  256 KiB of noise               ${result.hostile.randomFrameMicros.toFixed(2)} µs`);
console.log('\nPush of n certificates (1,200 B DER each), both engines, no link');
console.log('     n  frame limit  frames a→b  frames b→a   bytes a→b  overhead  bytes b→a  cpu ms');
for (const t of transfers) {
  const over = ((t.bytesAtoB / t.derBytes - 1) * 100).toFixed(1) + ' %';
  console.log(
    `${String(t.n).padStart(6)} ${String(t.frameLimit).padStart(12)} ${String(t.framesAtoB).padStart(11)} ` +
      `${String(t.framesBtoA).padStart(11)} ${String(t.bytesAtoB).padStart(11)} ${over.padStart(9)} ` +
      `${String(t.bytesBtoA).padStart(10)} ${t.cpuMs.toFixed(1).padStart(7)}`,
  );
}

mkdirSync(join(here, 'out'), { recursive: true });
writeFileSync(join(here, 'out', 'wire.json'), JSON.stringify(result, null, 2) + '\n');
