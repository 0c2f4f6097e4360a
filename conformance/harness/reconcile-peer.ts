/**
 * The runner's side of a reconcile (spec/reconcile.md 9), on the runner's own model
 * (reconcile-model.ts, syndrome-model.ts, run-schedule.ts): it derives the run both sides
 * start from the two digests, plays it against the implementation (run-peer.ts judges every
 * unit), hands a syndrome run that reaches its cap over to cells and a cell run to key
 * lists, lists keys when the schedule says so, streams the entries only it holds, answers
 * `want`, and records every reconciliation message the implementation sent, so that cases
 * can judge those bytes against the model.
 */
import assert from 'node:assert/strict';
import { sha256 } from '@noble/hashes/sha2.js';
import { entryOf, frameOfR, parseR, type Held, type RMsg } from './reconcile-messages.ts';
import {
  compareBytes,
  digestOf,
  estimate,
  itemHashOf,
  keyBytesOf,
  keyHex,
  keyOf,
  parseDigest,
  type Key,
} from './reconcile-model.ts';
import { RunPeer, type RunOptions } from './run-peer.ts';
import {
  cellSchedule,
  firstRun,
  planRun,
  SYNDROME_CAP,
  type RunKind,
  type Schedule,
} from './run-schedule.ts';
import type { Incoming } from '../../protocol/messages/codec.ts';
import { decoded, type WirePeer } from './wire-peer.ts';

/** The key of a held record. */
export const keyOfHeld = (h: Held): Key => keyOf(keyBytesOf(h.v));

/** What a reconcile between the runner and the implementation carried. */
export interface Transcript {
  readonly mode: 'equal' | 'syndromes' | 'cells' | 'keys' | 'wide';
  /** Every reconciliation message the implementation sent, in order. */
  readonly received: RMsg[];
  /** The runs played, in order. */
  readonly runs: readonly RunPeer[];
}

/** How the runner plays its side. */
export interface ReconcileOptions {
  /** Send want for metadata-only entries of records the runner holds no live DER of. */
  readonly wantMissing?: boolean;
  /** Go on until this many `want` messages of the implementation were answered. */
  readonly expectWants?: number;
  /** The digest the runner announced, when it is not the one of `own` (a forced estimate). */
  readonly announced?: Uint8Array;
  /**
   * Send the key list first, before the implementation said anything: for stores so small
   * (8 records or fewer in all) that every schedule lists keys.
   */
  readonly keysFirst?: boolean;
  /** The implementation's records: needed when a run is played, to know its units. */
  readonly impl?: readonly Held[];
  /**
   * Send the own units past the decoding checkpoint only after the implementation's first
   * entry (9.2 rule 4): `separate` as they are, `out-of-order` one unit off, after which
   * the runner stops (the implementation must end the session).
   */
  readonly lateUnits?: 'separate' | 'out-of-order';
}

function keyListMessages(parts: readonly Uint8Array[], wide: boolean): RMsg[] {
  const size = wide ? 16 : 6;
  const per = wide ? 224 : 600;
  const all = new Uint8Array(parts.length * size);
  parts.forEach((p, i) => all.set(p, i * size));
  const out: RMsg[] = [];
  for (let s = 0; ; s += per * size) {
    const e = Math.min(all.length, s + per * size);
    out.push({ type: 'keys', keys: all.slice(s, e), wide, last: e === all.length });
    if (e === all.length) return out;
  }
}

/** Splits what the implementation listed into 6- or 16-byte hex names. */
function listed(parts: readonly Uint8Array[], size: number): string[] {
  const all = Buffer.concat(parts);
  const out: string[] = [];
  for (let at = 0; at < all.length; at += size)
    out.push(all.subarray(at, at + size).toString('hex'));
  return out;
}

/** The keys listed an odd number of times in `a` and `b` together. */
function multisetDifference(a: readonly Key[], b: readonly string[]): Key[] {
  const count = new Map<string, number>();
  for (const k of a) count.set(keyHex(k), (count.get(keyHex(k)) ?? 0) + 1);
  for (const k of b) count.set(k, (count.get(k) ?? 0) - 1);
  return [...count].filter(([, c]) => c !== 0).map(([k]) => keyOf(Buffer.from(k, 'hex')));
}

/**
 * Runs the runner's half of a reconcile with the implementation, whose hello carried
 * `implDigest`, until both sides finished (spec/reconcile.md 9.3, "finished").
 *
 * @throws AssertionError when the implementation breaks a rule on the way
 */
export async function reconcileWith(
  peer: WirePeer,
  own: readonly Held[],
  implDigest: Uint8Array,
  o: ReconcileOptions = {},
): Promise<Transcript> {
  const theirs = parseDigest(implDigest);
  assert.ok(theirs, 'the implementation sends a 63-byte format-1 digest in hello');
  const real = digestOf(own.map((h) => h.v));
  const mine = o.announced ? (parseDigest(o.announced) ?? real) : real;
  const received: RMsg[] = [];
  const runs: RunPeer[] = [];
  if (compareBytes(mine.root, theirs.root) === 0) return { mode: 'equal', received, runs };
  const send = async (ms: RMsg[]): Promise<void> => {
    for (const m of ms) await peer.send(frameOfR(m));
  };
  const ownKeys = own.map(keyOfHeld);
  const implKeys = (o.impl ?? []).map(keyOfHeld);
  const e = estimate(theirs.estimator, mine.estimator);
  const st = {
    phase: 'start' as 'start' | 'run' | 'keys' | 'wide' | 'streaming',
    used: new Set<Transcript['mode']>(),
    dones: 0,
    wants: 0,
    answered: 0,
    /** Decoded with own units held back: entries wait for the implementation's. */
    holding: false,
    localOnly: [] as Held[],
    remoteTags: new Set<number>(),
  };
  let run: RunPeer | null = null;
  const theirList: Uint8Array[] = [];
  const runOptions: RunOptions = o.lateUnits ? { holdLate: true } : {};

  const startRun = (kind: RunKind, schedule: Schedule): void => {
    assert.ok(o.impl, 'a case that plays a run gives the implementation’s records');
    run = new RunPeer(planRun(kind, schedule, implKeys, ownKeys), implKeys, ownKeys, runOptions);
    runs.push(run);
    st.phase = 'run';
    st.used.add(kind);
  };
  const stream = async (): Promise<void> => {
    const localOnly = st.localOnly;
    const dels = localOnly.filter((h) => h.v.deleted);
    const live = localOnly.filter((h) => !h.v.deleted);
    const meta = live.filter((h) => st.remoteTags.has(keyOfHeld(h).hi));
    const full = live.filter((h) => !st.remoteTags.has(keyOfHeld(h).hi));
    await send([
      ...dels.map((h) => entryOf(h, false)),
      ...meta.map((h) => entryOf(h, false)),
      ...full.map((h) => entryOf(h, true)),
      { type: 'done' },
    ]);
  };
  const listKeys = async (wide: boolean) => {
    st.phase = wide ? 'wide' : 'keys';
    st.used.add(st.phase);
    const parts = own.map((h) => (wide ? itemHashOf(h.v) : keyBytesOf(h.v)));
    await send(keyListMessages(parts, wide));
  };
  /** The decoded difference: stream what only the runner holds, or go wide when empty. */
  const split = async (diff: readonly Key[]) => {
    if (diff.length === 0) return listKeys(true);
    const names = new Set(diff.map(keyHex));
    const ownNames = new Set(ownKeys.map(keyHex));
    const remote = diff.filter((k) => !ownNames.has(keyHex(k)));
    st.localOnly = own.filter((h) => names.has(keyHex(keyOfHeld(h))));
    st.remoteTags = new Set(remote.map((k) => k.hi));
    st.phase = 'streaming';
    if (!st.holding) await stream();
  };
  /** The runner's run reached its last checkpoint: decode, or give way (9.2 rule 3). */
  const decide = async (r: RunPeer) => {
    if (r.state === 'decoded') {
      st.holding = o.lateUnits !== undefined;
      return split(r.plan.keys);
    }
    const e64 = Math.max(e, SYNDROME_CAP);
    const cells = r.kind === 'syndromes' ? cellSchedule(e64, theirs.count, mine.count) : null;
    if (cells) return startRun('cells', cells);
    return listKeys(false);
  };
  /** The implementation went on from every run before `current` (or from all of them). */
  const leaveRuns = (what: string, current: RunPeer | null) => {
    for (const x of runs) if (x !== current) x.leave(what);
  };

  const start = firstRun(e, theirs.count, mine.count);
  if (start) startRun(start.kind, start.schedule);
  if (o.keysFirst) await listKeys(false);
  while (
    !(st.phase === 'streaming' && st.dones >= 1 + st.wants) ||
    st.answered < (o.expectWants ?? 0)
  ) {
    const f = await nextMessage(peer, run);
    if (f.kind === 'message') {
      const m2 = f.message;
      const what = m2.type === 'error' ? `error ${m2.code}: ${m2.message}` : m2.type;
      assert.fail(`expected reconciliation messages, got ${what}`);
    }
    assert.ok(f.kind === 'reconcile', `expected a reconciliation message, got ${f.kind}`);
    const r = parseR(f.code, f.payload);
    received.push(r);
    const current = run as RunPeer | null;
    if (r.type === 'cells' || r.type === 'syndromes') {
      assert.ok(current, `${r.type} come only in a run; the schedule starts none here`);
      leaveRuns(r.type, current);
      await send(current.take(r));
      if (current.state !== 'running' && st.phase === 'run') await decide(current);
      continue;
    }
    leaveRuns(r.type === 'keys' || r.type === 'done' ? r.type : 'entries', null);
    if (r.type === 'keys') {
      // A key list at the start; a wide list after a decode.
      if (!r.wide && st.phase === 'start') await listKeys(false);
      assert.equal(st.phase, r.wide ? 'wide' : 'keys', `a ${r.wide ? 'wide ' : ''}key list now`);
      theirList.push(r.keys);
      if (!r.last) continue;
      const names = listed(theirList.splice(0), r.wide ? 16 : 6);
      if (r.wide) {
        const theirHashes = new Set(names);
        st.localOnly = own.filter((h) => !theirHashes.has(hexOfBytes(itemHashOf(h.v))));
        st.remoteTags = new Set();
        st.phase = 'streaming';
        await stream();
        continue;
      }
      await split(multisetDifference(ownKeys, names));
      continue;
    }
    assert.equal(st.phase, 'streaming', 'entries come once the difference is known');
    if (st.holding) {
      st.holding = false;
      const late = (current as RunPeer).release();
      if (o.lateUnits === 'out-of-order') {
        const first = late[0];
        assert.ok(first && first.type !== 'keys', 'the run had units past its decoding checkpoint');
        await send([{ ...first, start: (first as { start: number }).start + 1 } as RMsg]);
        return { mode: current?.kind ?? 'keys', received, runs };
      }
      await send(late);
      await stream();
    }
    if (r.type === 'entry') {
      if (r.der) {
        assert.deepEqual(sha256(r.der), r.v.fingerprint, 'an entry DER hashes to its fingerprint');
      }
      const held = own.find((h) => compareBytes(h.v.fingerprint, r.v.fingerprint) === 0);
      if (o.wantMissing && !r.v.deleted && !r.der && !(held && !held.v.deleted)) {
        st.wants += 1;
        const kind = r.v.kind === 'cert' ? 1 : 2;
        await send([{ type: 'want', records: [{ kind, fingerprint: r.v.fingerprint }] }]);
      }
    } else if (r.type === 'want') {
      const out: RMsg[] = [];
      for (const w of r.records) {
        const h = own.find((x) => compareBytes(x.v.fingerprint, w.fingerprint) === 0);
        if (h) out.push(entryOf(h, true));
      }
      await send([...out, { type: 'done' }]);
      st.answered += 1;
    } else {
      st.dones += 1;
    }
  }
  const order: Transcript['mode'][] = ['wide', 'keys', 'cells', 'syndromes'];
  return { mode: order.find((m) => st.used.has(m)) ?? 'keys', received, runs };
}

const hexOfBytes = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/**
 * The implementation's next frame. While a run waits for its first units, a silence of
 * 3 s means the implementation stopped short of them.
 */
async function nextMessage(peer: WirePeer, run: RunPeer | null): Promise<Incoming> {
  if (!run || run.begun) return peer.message(10_000);
  const f = await peer.next(3_000);
  assert.notEqual(
    f,
    'timeout',
    `the implementation sent ${run.kind} [0, ${run.implSent}) and then nothing: a run ` +
      `begins with its units [0, first + lookahead · chunk) = [0, ${run.beginEnd}) (9.2 rule 1)`,
  );
  assert.notEqual(f, 'closed', 'the implementation closed the link in a run');
  return decoded(f as Uint8Array);
}
