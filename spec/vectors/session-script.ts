/**
 * A whole recorded session between two clients, A (a desktop) and B (a phone whose store
 * is full and alerts), and its replay. The recording lists, per side, every event fed to
 * its engine and the frames it sent in answer; a replay feeds one side's events to a fresh
 * engine and must get the same frames.
 */

import { sha256 } from '@noble/hashes/sha2.js';

import type { Entry } from '../../protocol/merge/entry.ts';
import { EVICT_ANY, MemoryStore as SyncMemoryStore } from '../../protocol/merge/memory-store.ts';
import { fromJsonForm, toJsonForm, type Json } from '../../protocol/messages/json-form.ts';
import { Reconciler } from '../../protocol/reconcile/reconciler.ts';
import type { Item } from '../../protocol/messages/records.ts';
import { RECONCILE_CAPABILITY } from '../../protocol/session/engine.ts';
import { Side, testConfig } from '../../protocol/session/harness.ts';
import { MemoryStore, type OverflowPolicy } from '../../protocol/session/memory-store.ts';
import type { SessionEvent } from '../../protocol/session/types.ts';
import { bytesOf, hexOf } from '../../protocol/wire/hex.ts';
import { DEFAULT_LIMITS, withFrameLimit } from '../../protocol/wire/limits.ts';

/** A store as a vector describes it. */
export interface StoreSpec {
  readonly capacity: number | null;
  readonly policy: OverflowPolicy;
  readonly items: readonly Item[];
}

/** One step of one side: the event fed and the frames (hex) it sent. */
export interface RecordedStep {
  readonly side: 'a' | 'b';
  readonly event: SessionEvent;
  readonly sends: readonly string[];
}

const origin = (b: number) => new Uint8Array(16).fill(b);

function cert(n: number, label: string, useCount: number): Item {
  const der = Uint8Array.from([0x30, 0x06, 0x02, 0x01, n, 0x04, 0x01, n]);
  return { kind: 'cert', der, label, pinned: false, clock: n, origin: origin(n), useCount };
}

const STORES: Record<'a' | 'b', StoreSpec> = {
  a: { capacity: null, policy: 'refuse', items: [cert(1, 'Alice', 9), cert(2, 'Bob', 4)] },
  b: { capacity: 2, policy: 'alert', items: [cert(3, 'Carol', 1), cert(4, 'Dave', 6)] },
};

/** A side of the vector session with its store filled as `spec` says. */
export function buildSide(name: 'a' | 'b', spec: StoreSpec): { side: Side; store: MemoryStore } {
  const store = new MemoryStore(spec.capacity, spec.policy);
  for (const it of spec.items) store.put(it);
  const limits = name === 'b' ? withFrameLimit(DEFAULT_LIMITS, 4096) : DEFAULT_LIMITS;
  const side = new Side(name, testConfig({ limits, name: name === 'a' ? 'Desktop' : 'Phone' }), {
    store,
  });
  return { side, store };
}

/** Runs the scripted session and returns its recording in JSON form. */
export function recordSession(): Json {
  const a = buildSide('a', STORES.a);
  const b = buildSide('b', STORES.b);
  const sides = { a: a.side, b: b.side };
  const steps: RecordedStep[] = [];
  // Frames in flight, delivered in order 20 ms after they were sent.
  const inFlight: { to: 'a' | 'b'; event: SessionEvent }[] = [];
  const step = (name: 'a' | 'b', event: SessionEvent) => {
    const side = sides[name];
    side.feed(event);
    const sends = side.outbox.splice(0);
    steps.push({ side: name, event, sends: sends.map(hexOf) });
    const to = name === 'a' ? 'b' : 'a';
    for (const frame of sends)
      inFlight.push({ to, event: { kind: 'frame', now: event.now + 20, frame } });
  };
  const feed = (name: 'a' | 'b', event: SessionEvent) => {
    step(name, event);
    for (let next = inFlight.shift(); next; next = inFlight.shift()) step(next.to, next.event);
  };
  const ids = STORES.a.items.map((it) => a.store.put(it));
  const carol = [...b.store.live.keys()][0] as string;
  step('a', { kind: 'start', now: 0 });
  feed('b', { kind: 'start', now: 0 });
  feed('a', {
    kind: 'command',
    now: 100,
    command: { op: 'list', order: 'use', filter: 'all', limit: 10 },
  });
  feed('a', { kind: 'command', now: 200, command: { op: 'push', mode: 'add', ids } });
  feed('a', {
    kind: 'command',
    now: 900,
    command: { op: 'overflow-choice', victim: bytesOf(carol) },
  });
  feed('a', { kind: 'command', now: 1500, command: { op: 'overflow-choice', victim: null } });
  feed('b', {
    kind: 'command',
    now: 1600,
    command: {
      op: 'report-validity',
      checkedAt: 1600,
      results: [{ id: bytesOf(ids[0] as string), status: 'valid' }],
    },
  });
  feed('a', {
    kind: 'command',
    now: 1700,
    command: { op: 'delete', ids: [bytesOf(ids[0] as string)] },
  });
  feed('a', { kind: 'command', now: 1800, command: { op: 'goodbye' } });
  return toJsonForm({
    description:
      'A recorded certsync session (spec/protocol.md, "Test vectors"). A lists B, pushes two ' +
      'certificates into B, whose store is full and alerts: A picks Carol as the victim for ' +
      'the first and aborts at the second. B reports a validity check, A deletes Alice on B, ' +
      'A says goodbye. Steps are in the order they happened; each gives the side, the event ' +
      'fed to its engine (frames in hex) and the frames it sent, in hex. Replaying one ' +
      "side's events must give the same frames.",
    stores: STORES,
    steps,
  });
}

/** The recorded steps and stores of a vector file. */
export function parseSession(json: Json): {
  stores: Record<'a' | 'b', StoreSpec>;
  steps: RecordedStep[];
} {
  return fromJsonForm(json) as { stores: Record<'a' | 'b', StoreSpec>; steps: RecordedStep[] };
}

/** Runs `script` between two sides, recording every step in the order it happened. */
function record(
  sides: Record<'a' | 'b', Side>,
  script: (step: Feed, feed: Feed) => void,
): RecordedStep[] {
  const steps: RecordedStep[] = [];
  const inFlight: { to: 'a' | 'b'; event: SessionEvent }[] = [];
  const step: Feed = (name, event) => {
    const side = sides[name];
    side.feed(event);
    const sends = side.outbox.splice(0);
    steps.push({ side: name, event, sends: sends.map(hexOf) });
    const to = name === 'a' ? 'b' : 'a';
    for (const frame of sends) {
      inFlight.push({ to, event: { kind: 'frame', now: event.now + 20, frame } });
    }
  };
  const feed: Feed = (name, event) => {
    step(name, event);
    for (let next = inFlight.shift(); next; next = inFlight.shift()) step(next.to, next.event);
  };
  script(step, feed);
  return steps;
}

type Feed = (name: 'a' | 'b', event: SessionEvent) => void;

const entry = (n: number, clock: number, origin: number, over: Partial<Entry> = {}): Entry => {
  const der = Uint8Array.from([0x30, 0x06, 0x02, 0x01, n, 0x04, 0x01, n]);
  return {
    kind: n % 5 === 4 ? 'crl' : 'cert',
    fingerprint: sha256(der),
    deleted: false,
    clock,
    origin: new Uint8Array(16).fill(origin),
    der,
    meta: { label: null, pinned: false },
    ...over,
  };
};

/** The stores of the reconcile vector: a shared history, then each side's own writes. */
const RECONCILE_STORES: Record<'a' | 'b', readonly Entry[]> = (() => {
  const shared = [1, 2, 3, 4, 5].map((n) => entry(n, n, 0xaa));
  const relabel = { ...entry(2, 9, 0xaa), meta: { label: 'Bob (new key)', pinned: true } };
  const deletion = { ...entry(5, 8, 0xbb), deleted: true, der: null };
  return {
    a: [...shared.filter((e) => e !== shared[1]), relabel, entry(6, 10, 0xaa), entry(7, 11, 0xaa)],
    b: [...shared.filter((e) => e !== shared[4]), deletion, entry(8, 12, 0xbb)],
  };
})();

/** A side of the reconcile vector, its sync store filled with `entries`. */
export function buildReconcileSide(
  name: 'a' | 'b',
  entries: readonly Entry[],
): { side: Side; store: SyncMemoryStore } {
  const store = new SyncMemoryStore({
    origin: new Uint8Array(16).fill(name === 'a' ? 0xaa : 0xbb),
  });
  for (const e of entries) store.apply(e, EVICT_ANY);
  const config = testConfig({
    capabilities: [RECONCILE_CAPABILITY],
    sync: name === 'a' ? 'auto' : 'on-request',
  });
  const side = new Side(name, config, {
    store: new MemoryStore(),
    reconciler: new Reconciler(store),
  });
  return { side, store };
}

/** Runs the reconcile session and returns its recording in JSON form. */
export function recordReconcileSession(): Json {
  const a = buildReconcileSide('a', RECONCILE_STORES.a);
  const b = buildReconcileSide('b', RECONCILE_STORES.b);
  const steps = record({ a: a.side, b: b.side }, (step, feed) => {
    step('a', { kind: 'start', now: 0 });
    feed('b', { kind: 'start', now: 0 });
    feed('a', { kind: 'command', now: 500, command: { op: 'goodbye' } });
  });
  return toJsonForm({
    description:
      'A recorded certsync session with a reconcile (spec/protocol.md, "Test vectors"; ' +
      'spec/reconcile.md). A and B share items 1-5; A relabelled and pinned item 2 and ' +
      'added 6 and 7, B deleted 5 and added 8. A reconciles automatically after the hellos; ' +
      'afterwards both stores hold the same records, and A says goodbye. Stores are given as ' +
      'merge entries (protocol/merge/entry.ts), the steps as in session-transfer.json.',
    stores: RECONCILE_STORES,
    steps,
  });
}

/** The recorded steps and stores of the reconcile vector file. */
export function parseReconcileSession(json: Json): {
  stores: Record<'a' | 'b', Entry[]>;
  steps: RecordedStep[];
} {
  return fromJsonForm(json) as { stores: Record<'a' | 'b', Entry[]>; steps: RecordedStep[] };
}
