import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { isCertsyncError } from '../../protocol/errors.ts';
import { parseCertificate, type ParsedCertificate } from '../pki/index.ts';
import { CertificateFactory, makeTemplateCertificate } from '../testing/certificate-factory.ts';
import { OpensslPki } from '../testing/openssl-pki.ts';
import { OverflowAlert, Store, type OverflowPolicy } from './index.ts';

// Model-based tests: a sequence of adds, uses and pins runs against a real SQLite store and
// against a small model of what the policy must do; each law is checked after every step.

type Op =
  | { readonly t: 'add'; readonly k: number }
  | { readonly t: 'use'; readonly i: number }
  | { readonly t: 'pin'; readonly i: number; readonly on: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({ t: fc.constant('add' as const), k: fc.integer({ min: 1, max: 3 }) }),
    weight: 3,
  },
  { arbitrary: fc.record({ t: fc.constant('use' as const), i: fc.nat(20) }), weight: 2 },
  {
    arbitrary: fc.record({ t: fc.constant('pin' as const), i: fc.nat(20), on: fc.boolean() }),
    weight: 1,
  },
);

const scenarioArb = fc.record({
  capacity: fc.integer({ min: 0, max: 6 }),
  policy: fc.constantFrom<OverflowPolicy>('lru', 'alert', 'refuse'),
  ops: fc.array(opArb, { minLength: 1, maxLength: 40 }),
});

let pki: OpensslPki;
let pool: ParsedCertificate[];

before(async () => {
  pki = await OpensslPki.create();
  const factory = new CertificateFactory((await makeTemplateCertificate(pki)).der);
  pool = Array.from({ length: 130 }, (_, n) => parseCertificate(factory.make(n)));
});

after(() => pki.cleanup());

interface Step {
  readonly op: Op;
  readonly failed: string | undefined;
  readonly evicted: readonly string[];
  /** Fingerprints an add offered. */
  readonly batch: readonly string[];
  /** The model's least recently used unpinned entries at the time, oldest first. */
  readonly lruBefore: readonly string[];
  readonly pinnedBefore: readonly string[];
  readonly snapshotBefore: string;
  readonly snapshotAfter: string;
  readonly count: number;
}

function snapshot(store: Store): string {
  const rows = store.certificates
    .list('store')
    .map((r) => [r.fingerprintHex, r.useCount, r.pinned]);
  return JSON.stringify({
    rows,
    counter: store.sync.counter(),
    entries: store.sync.entries().length,
  });
}

/** Runs a scenario, keeping a model of recency (insert and use make an entry newest). */
function run(capacity: number, policy: OverflowPolicy, ops: readonly Op[]): Step[] {
  const store = Store.open(':memory:', { create: true, capacity, policy });
  const recency: string[] = []; // model: held fingerprints, least recently used first
  const pinned = new Set<string>();
  const steps: Step[] = [];
  let next = 0;
  try {
    for (const op of ops) {
      const lruBefore = recency.filter((f) => !pinned.has(f));
      const pinnedBefore = [...pinned];
      const snapshotBefore = snapshot(store);
      let failed: string | undefined;
      let evicted: string[] = [];
      let batchFps: string[] = [];
      const held = store.certificates.list('store');
      try {
        if (op.t === 'add') {
          const batch = pool.slice(next, next + op.k);
          const result = store.certificates.add(batch, { source: 'model' });
          next += op.k;
          evicted = result.evicted.map((r) => r.fingerprintHex);
          batchFps = batch.map((c) => c.fingerprintHex);
          recency.push(...batchFps);
          for (const e of evicted) recency.splice(recency.indexOf(e), 1);
        } else if (held.length > 0) {
          const target = held[op.i % held.length];
          assert.ok(target);
          if (op.t === 'use') {
            store.certificates.recordUse(target.fingerprint);
            recency.splice(recency.indexOf(target.fingerprintHex), 1);
            recency.push(target.fingerprintHex);
          } else {
            store.certificates.setMeta(target.fingerprint, { pinned: op.on });
            if (op.on) pinned.add(target.fingerprintHex);
            else pinned.delete(target.fingerprintHex);
          }
        }
      } catch (error) {
        if (!isCertsyncError(error)) throw error;
        failed = error.code;
        if (error instanceof OverflowAlert) {
          assert.deepEqual(
            error.candidates.map((c) => c.fingerprintHex),
            lruBefore,
            'alert candidates are the unpinned entries, least recently used first',
          );
        }
      }
      const count = store.capacity.state().count;
      steps.push({
        op,
        failed,
        evicted,
        batch: batchFps,
        lruBefore,
        pinnedBefore,
        snapshotBefore,
        snapshotAfter: snapshot(store),
        count,
      });
      for (const f of pinned) assert.ok(store.certificates.findByPrefix(f).length === 1 || failed);
    }
  } finally {
    store.close();
  }
  return steps;
}

const RUNS = { numRuns: 60 };

describe('overflow policies (property)', () => {
  it('capacity is never exceeded', () => {
    fc.assert(
      fc.property(scenarioArb, ({ capacity, policy, ops }) => {
        for (const step of run(capacity, policy, ops)) assert.ok(step.count <= capacity);
      }),
      RUNS,
    );
  });

  it('lru evicts exactly the least recently used unpinned entries', () => {
    fc.assert(
      fc.property(scenarioArb, ({ capacity, ops }) => {
        for (const step of run(capacity, 'lru', ops)) {
          if (step.op.t !== 'add' || step.failed) continue;
          // Inserting k into a store holding n evicts max(0, n + k - capacity), oldest first;
          // when k exceeds the room, the batch's own first members become the oldest.
          const held = step.lruBefore.length + step.pinnedBefore.length;
          const needed = Math.max(0, held + step.op.k - capacity);
          assert.deepEqual(step.evicted, [...step.lruBefore, ...step.batch].slice(0, needed));
        }
      }),
      RUNS,
    );
  });

  it('pinned entries are never evicted', () => {
    fc.assert(
      fc.property(scenarioArb, ({ capacity, policy, ops }) => {
        for (const step of run(capacity, policy, ops)) {
          for (const p of step.pinnedBefore) assert.ok(!step.evicted.includes(p));
        }
      }),
      RUNS,
    );
  });

  it('a failed insert changes nothing', () => {
    fc.assert(
      fc.property(scenarioArb, ({ capacity, policy, ops }) => {
        const steps = run(capacity, policy, ops);
        for (const step of steps) {
          if (step.failed) assert.equal(step.snapshotAfter, step.snapshotBefore);
        }
        // Under refuse and alert a full store fails every add; lru fails only when all pinned.
        for (const step of steps) {
          if (step.op.t !== 'add') continue;
          const held = step.lruBefore.length + step.pinnedBefore.length;
          const fits = held + step.op.k <= capacity;
          const lruCan = step.pinnedBefore.length < capacity;
          const expectFail = policy === 'lru' ? !fits && !lruCan : !fits;
          assert.equal(step.failed !== undefined, expectFail, JSON.stringify(step.op));
        }
      }),
      RUNS,
    );
  });
});
