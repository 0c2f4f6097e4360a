/**
 * The sync benchmark's core functions on small stores: every scheme, in memory and over
 * the link models, brings both stores to the same content, and to the content the merge
 * rule says. No timing is asserted.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { compareVersions, recordKey } from '../protocol/merge/entry.ts';
import type { BenchStore } from './lib/bench-store.ts';
import { openCertificatePool, type CertificatePool } from './lib/certificates.ts';
import { checkWithheld } from './lib/cpu-probe.ts';
import { runInMemory } from './lib/drive.ts';
import { discoveryBound } from './lib/lower-bound.ts';
import { makeSides, runCase } from './lib/measure.ts';
import { SCHEMES } from './lib/scheme.ts';
import { buildPair, type PairSpec } from './lib/store-pairs.ts';

/** What both stores must hold afterwards: per record, the newer of the two versions. */
function mergedContent(a: BenchStore, b: BenchStore): string[] {
  const best = new Map<string, BenchStore['allRows'] extends () => Iterable<infer R> ? R : never>();
  for (const row of [...a.allRows(), ...b.allRows()]) {
    const k = recordKey(row.entry);
    const old = best.get(k);
    if (old === undefined || compareVersions(row.entry, old.entry) > 0) best.set(k, row);
  }
  const lines = [...best].map(([k, row]) => {
    const e = row.entry;
    return `${k} ${e.deleted ? 'deleted' : 'live'} ${e.clock} ${Buffer.from(e.origin).toString('hex')}`;
  });
  return lines.sort();
}

describe('sync benchmark core (quick mode functions, small stores)', () => {
  let dir: string;
  let pool: CertificatePool;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'certsync-sync-bench-'));
    pool = openCertificatePool(400, dir);
  });
  after(() => {
    pool.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('generated certificates are DER that openssl reads, 1.1 to 2 kB', () => {
    const file = join(dir, 'one.der');
    writeFileSync(file, pool.der(17));
    const subject = execFileSync('openssl', [
      'x509',
      '-inform',
      'DER',
      '-in',
      file,
      '-noout',
      '-subject',
    ]);
    assert.match(String(subject), /Person 17/);
    for (let i = 0; i < pool.count; i++) {
      assert.ok(pool.size(i) >= 1_000 && pool.size(i) <= 2_048, `size ${pool.size(i)}`);
    }
  });

  for (const spec of [
    { n: 200, d: 0, deletions: false },
    { n: 200, d: 1, deletions: false },
    { n: 200, d: 30, deletions: false },
    { n: 200, d: 30, deletions: true },
    { n: 150, d: 150, deletions: true },
  ] satisfies PairSpec[]) {
    it(`every scheme ends with the merged content in memory (n=${spec.n} d=${spec.d}${
      spec.deletions ? ', deletions' : ''
    })`, () => {
      const [a0, b0] = buildPair(pool, spec);
      const want = mergedContent(a0, b0);
      if (spec.d > 0) assert.notDeepEqual(b0.contentLines(), want);
      for (const scheme of SCHEMES) {
        const a = a0.copy();
        const b = b0.copy();
        const [sa, sb] = makeSides(scheme, a, b);
        const run = runInMemory(sa, sb);
        assert.deepEqual(a.contentLines(), want, `${scheme}: side a`);
        assert.deepEqual(b.contentLines(), want, `${scheme}: side b`);
        if (scheme === 'naive') assert.equal(run.roundTrips, 1);
        if (scheme === 'certsync' && spec.d === 0) assert.equal(run.roundTrips, 0.5);
      }
    });
  }

  for (const spec of [
    { n: 200, d: 0, deletions: false },
    { n: 200, d: 1, deletions: false },
    { n: 200, d: 30, deletions: false },
    { n: 200, d: 200, deletions: false },
    { n: 200, d: 30, deletions: true },
  ] satisfies PairSpec[]) {
    it(`with the entries withheld every scheme does a full run's discovery and sends no entry (n=${
      spec.n
    } d=${spec.d}${spec.deletions ? ', deletions' : ''})`, () => {
      const [a0, b0] = buildPair(pool, spec);
      for (const scheme of SCHEMES) {
        const full = runInMemory(...makeSides(scheme, a0.copy(), b0.copy()));
        const a = a0.copy();
        const b = b0.copy();
        const withheld = runInMemory(...makeSides(scheme, a, b, { withholdEntries: true }));
        const entries = full.aToB.entryFrames + full.bToA.entryFrames;
        assert.equal(entries > 0, spec.d > 0, `${scheme}: ${entries} entry frames in full`);
        for (const [way, f, w] of [
          ['a to b', full.aToB, withheld.aToB],
          ['b to a', full.bToA, withheld.bToA],
        ] as const) {
          assert.equal(w.entryFrames, 0, `${scheme} ${way}: entry frames`);
          assert.equal(w.payload, 0, `${scheme} ${way}: entry bytes`);
          assert.equal(w.discovery, f.discovery, `${scheme} ${way}: discovery bytes`);
          assert.equal(w.frames, f.frames - f.entryFrames, `${scheme} ${way}: discovery frames`);
        }
        assert.equal(withheld.flights, full.flights, `${scheme}: flights`);
        checkWithheld(full, withheld);
        assert.deepEqual(a.contentLines(), a0.contentLines(), `${scheme}: side a unchanged`);
        assert.deepEqual(b.contentLines(), b0.contentLines(), `${scheme}: side b unchanged`);
      }
    });
  }

  it('the CPU probe refuses a withheld run that skipped discovery', () => {
    const [a0, b0] = buildPair(pool, { n: 200, d: 30, deletions: false });
    const full = runInMemory(...makeSides('negentropy', a0.copy(), b0.copy()));
    const naive = runInMemory(
      ...makeSides('naive', a0.copy(), b0.copy(), { withholdEntries: true }),
    );
    assert.throws(() => checkWithheld(full, naive), /expected the discovery of a full run/);
    assert.throws(() => checkWithheld(full, full), /entry frames with the entries withheld/);
  });

  it('over the link models all schemes agree, and none beats the lower bound', async () => {
    const rows = await runCase(
      pool,
      { n: 200, d: 20, deletions: true },
      ['memory', 'ble-1m-30ms', 'ble-2m-30ms', 'serial-115200', 'irda-sir-115200'],
      SCHEMES,
    );
    assert.equal(rows.length, 15);
    assert.equal(new Set(rows.map((r) => r.root)).size, 1);
    for (const r of rows) {
      assert.ok(Math.max(r.discoveryAtoB, r.discoveryBtoA) >= discoveryBound(r.n, r.d));
      assert.ok(r.roundTrips >= 1, `${r.scheme} over ${r.target}: ${r.roundTrips} round trips`);
      if (r.target !== 'memory') assert.ok((r.linkMs ?? 0) > 0);
    }
  });
});
