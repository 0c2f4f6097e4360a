import assert from 'node:assert/strict';
import test from 'node:test';

import fc from 'fast-check';

import { MemoryStore as SyncMemoryStore } from '../merge/memory-store.ts';
import { decodeFrame, encodeReconcile } from '../messages/codec.ts';
import { encodeReconcileMessage } from '../reconcile/messages.ts';
import { Reconciler } from '../reconcile/reconciler.ts';
import { DEFAULT_LIMITS } from '../wire/limits.ts';
import { applyOps, originOf, storeOp } from '../testing/store-arbitraries.ts';
import { assertSameContent } from '../testing/store-assertions.ts';
import { RECONCILE_CAPABILITY } from './engine.ts';
import { exchange, Side, testConfig, type LoggedFrame } from './harness.ts';
import { MemoryStore } from './memory-store.ts';
import type { SessionConfig } from './types.ts';

function side(name: string, store: SyncMemoryStore, over: Partial<SessionConfig>): Side {
  const config = testConfig({ capabilities: [RECONCILE_CAPABILITY], ...over });
  return new Side(name, config, { store: new MemoryStore(), reconciler: new Reconciler(store) });
}

function syncThroughSessions(
  sa: SyncMemoryStore,
  sb: SyncMemoryStore,
  aSync: 'auto' | 'on-request',
  bSync: 'auto' | 'on-request',
) {
  const a = side('a', sa, { sync: aSync });
  const b = side('b', sb, { sync: bSync });
  const log: LoggedFrame[] = [];
  a.feed({ kind: 'start', now: 0 });
  b.feed({ kind: 'start', now: 0 });
  exchange(a, b, 0, log);
  return { a, b, log };
}

test('two-way reconcile through two session engines converges (either side may start it)', () => {
  fc.assert(
    fc.property(
      fc.array(storeOp, { maxLength: 30 }),
      fc.array(storeOp, { maxLength: 15 }),
      fc.array(storeOp, { maxLength: 15 }),
      fc.constantFrom(['auto', 'on-request'] as const, ['on-request', 'auto'] as const),
      (shared, ownA, ownB, [aSync, bSync]) => {
        const sa = new SyncMemoryStore({ origin: originOf(1), capacity: null });
        const sb = new SyncMemoryStore({ origin: originOf(2), capacity: null });
        applyOps(sa, shared);
        applyOps(sb, shared);
        applyOps(sa, ownA);
        applyOps(sb, ownB);
        const { a, b } = syncThroughSessions(sa, sb, aSync, bSync);
        assertSameContent(sa, sb);
        for (const s of [a, b]) {
          assert.equal(s.state.reconcile, 'finished');
          assert.equal(s.seen('reconciled').length, 1);
          assert.equal(s.state.phase, 'ready');
          assert.equal(s.state.reconcileDeadline, null);
        }
      },
    ),
    { numRuns: 60 },
  );
});

test('equal stores learn it from the hellos alone: one frame each way', () => {
  const sa = new SyncMemoryStore({ origin: originOf(1), capacity: null });
  const sb = new SyncMemoryStore({ origin: originOf(2), capacity: null });
  applyOps(sa, [
    { op: 'import', item: 1 },
    { op: 'import', item: 2 },
  ]);
  for (const e of sa.liveEntries()) sb.apply(e, { mayEvict: () => false });
  const { a, b, log } = syncThroughSessions(sa, sb, 'auto', 'auto');
  assert.deepEqual(
    log.map((l) => l.from),
    ['a', 'b'],
  );
  assert.equal(a.state.reconcile, 'finished');
  assert.equal(b.state.reconcile, 'finished');
});

test('without both sides offering reconcile, a reconciliation message is unexpected-message', () => {
  const sa = new SyncMemoryStore({ origin: originOf(1), capacity: null });
  const a = side('a', sa, { sync: 'on-request' });
  const b = new Side('b', testConfig(), { store: new MemoryStore() });
  a.feed({ kind: 'start', now: 0 });
  b.feed({ kind: 'start', now: 0 });
  exchange(a, b, 0);
  assert.throws(() => a.command(1, { op: 'reconcile' }), RangeError);
  const { code, payload } = encodeReconcileMessage({ type: 'done' });
  b.feed({ kind: 'frame', now: 1, frame: encodeReconcile(1, code, payload, DEFAULT_LIMITS) });
  const sent = decodeFrame(b.outbox.at(-1) as Uint8Array, DEFAULT_LIMITS);
  assert.ok(sent.kind === 'message' && sent.message.type === 'error');
  assert.equal(sent.message.code, 'unexpected-message');
  assert.equal(b.state.phase, 'closed');
});
