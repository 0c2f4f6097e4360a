/**
 * Runs two-way reconciles between in-memory stores over a modelled full-duplex link, for
 * property tests, the conformance suite and the benchmark.
 *
 * The model delivers in rounds: round 1 is both hellos, sent at once; every later round is
 * what each side sends after reading everything of the previous round. Round trips are
 * counted by depth, as on a real link: a message sent on reading one of depth k has depth
 * k + 1, except sketch units (syndromes, cells), which count at the depth of the side's
 * first message of the same kind (their content depends on the own store alone; they only
 * wait for the peer's units as flow control, which a link with room for the lookahead never
 * feels). The deepest message is
 * the number of flights; f flights took f / 2 round trips. Every message goes through the real wire
 * path (payload map, CBOR envelope, frame decode), so its bytes are the bytes on the link
 * before the session's encryption. The loop is capped: a reconcile that does not go quiet
 * within `maxRounds` rounds fails the caller's test.
 */

import { decodeFrame, encodeMessage, encodeReconcile } from '../messages/codec.ts';
import type { SyncStore } from '../merge/store.ts';
import {
  decodeReconcileMessage,
  encodeReconcileMessage,
  type ReconcileMessage,
} from '../reconcile/messages.ts';
import { Reconciler, type ReconcileReport } from '../reconcile/reconciler.ts';
import { DEFAULT_LIMITS } from '../wire/limits.ts';

/** Bytes sent one way, split into discovery (hello, cells, keys, wants, done) and entries. */
export interface DirectionBytes {
  hello: number;
  discovery: number;
  entries: number;
  messages: number;
}

/** What one reconcile cost. */
export interface SyncRun {
  /** Flights: the depth of the deepest message; round trips are flights / 2. */
  readonly flights: number;
  /** Rounds of delivery until both sides went quiet. */
  readonly rounds: number;
  readonly aToB: DirectionBytes;
  readonly bToA: DirectionBytes;
  readonly a: ReconcileReport;
  readonly b: ReconcileReport;
  /** Time in both reconcilers and the codec (not in counting the stores for hello), by `now`. */
  readonly cpuMs: number;
}

/** Options of {@link runSync}. */
export interface SyncOptions {
  /** Rounds after which the run fails; default 64. */
  readonly maxRounds?: number;
  /** A clock for the CPU figure, in ms (the benchmark passes process CPU time); default none. */
  readonly now?: () => number;
}

interface Counts {
  readonly certificates: number;
  readonly crls: number;
}

/** Live certificates and CRLs, which a real store keeps as counters. */
function countsOf(store: SyncStore): Counts {
  let certificates = 0;
  let crls = 0;
  for (const item of store.items()) {
    if (item.head.deleted) continue;
    if (item.head.kind === 'cert') certificates += 1;
    else crls += 1;
  }
  return { certificates, crls };
}

/** The hello a side sends, with the reconcile digest in its summary. */
function helloFrame(store: SyncStore, { certificates, crls }: Counts, digest: Uint8Array) {
  const cap = store.capacityInfo();
  const summary = {
    certificates,
    crls,
    ...(cap.capacity === null ? {} : { capacity: cap.capacity, free: cap.capacity - cap.live }),
    digest,
  };
  return encodeMessage(
    1,
    {
      type: 'hello',
      versions: [1, 1],
      capabilities: [],
      summary,
      maxFrame: DEFAULT_LIMITS.maxFrameBytes,
      sync: 'auto',
    },
    DEFAULT_LIMITS,
  );
}

function toFrame(msg: ReconcileMessage): Uint8Array {
  const { code, payload } = encodeReconcileMessage(msg);
  return encodeReconcile(1, code, payload, DEFAULT_LIMITS);
}

function fromFrame(frame: Uint8Array): ReconcileMessage {
  const d = decodeFrame(frame, DEFAULT_LIMITS);
  if (d.kind !== 'reconcile') throw new Error(`expected a reconciliation frame, got ${d.kind}`);
  return decodeReconcileMessage(d.code, d.payload);
}

function digestOf(frame: Uint8Array): Uint8Array {
  const d = decodeFrame(frame, DEFAULT_LIMITS);
  if (d.kind !== 'message' || d.message.type !== 'hello') throw new Error('expected a hello');
  return d.message.summary.digest;
}

function emptyBytes(): DirectionBytes {
  return { hello: 0, discovery: 0, entries: 0, messages: 0 };
}

/**
 * Reconciles `a` with `b` until both are quiet.
 *
 * @throws Error when the run is still talking after `maxRounds` rounds
 */
export function runSync(a: SyncStore, b: SyncStore, options: SyncOptions = {}): SyncRun {
  const maxRounds = options.maxRounds ?? 64;
  const now = options.now ?? (() => 0);
  const countsA = countsOf(a);
  const countsB = countsOf(b);
  const t0 = now();
  const ra = new Reconciler(a);
  const rb = new Reconciler(b);
  const sideA: Side = { r: ra, sent: emptyBytes(), streams: new Map() };
  const sideB: Side = { r: rb, sent: emptyBytes(), streams: new Map() };
  const helloA = helloFrame(a, countsA, ra.hello());
  const helloB = helloFrame(b, countsB, rb.hello());
  sideA.sent.hello = helloA.length;
  sideB.sent.hello = helloB.length;
  sideA.sent.messages = sideB.sent.messages = 1;
  let flights = 1;
  let rounds = 1;
  let toB = frames(ra.begin(digestOf(helloB)), 1, sideA);
  let toA = frames(rb.begin(digestOf(helloA)), 1, sideB);
  while (toA.length > 0 || toB.length > 0) {
    rounds += 1;
    if (rounds > maxRounds) throw new Error(`reconcile still talking after ${maxRounds} rounds`);
    for (const f of [...toA, ...toB]) flights = Math.max(flights, f.depth);
    const nextToA = toB.flatMap((f) => frames(rb.receive(fromFrame(f.bytes)), f.depth, sideB));
    const nextToB = toA.flatMap((f) => frames(ra.receive(fromFrame(f.bytes)), f.depth, sideA));
    toA = nextToA;
    toB = nextToB;
  }
  if (!ra.finished || !rb.finished) throw new Error('reconcile went quiet before both finished');
  return {
    flights,
    rounds,
    aToB: sideA.sent,
    bToA: sideB.sent,
    a: ra.report(),
    b: rb.report(),
    cpuMs: now() - t0,
  };
}

interface Side {
  readonly r: Reconciler;
  readonly sent: DirectionBytes;
  /** Depth of this side's first message of each sketch unit kind. */
  readonly streams: Map<string, number>;
}

interface Sent {
  readonly bytes: Uint8Array;
  readonly depth: number;
}

/** Frames of `msgs`, sent on reading a message of depth `cause`, tallied for `side`. */
function frames(msgs: readonly ReconcileMessage[], cause: number, side: Side): Sent[] {
  return msgs.map((m) => {
    const bytes = toFrame(m);
    side.sent.messages += 1;
    if (m.type === 'entry') side.sent.entries += bytes.length;
    else side.sent.discovery += bytes.length;
    let depth = cause + 1;
    if (m.type === 'cells' || m.type === 'syndromes') {
      depth = side.streams.get(m.type) ?? depth;
      side.streams.set(m.type, depth);
    }
    return { bytes, depth };
  });
}
