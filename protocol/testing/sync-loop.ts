/**
 * Runs two-way reconciles between in-memory stores over a modelled full-duplex link, for
 * property tests, the conformance suite and the benchmark.
 *
 * The model counts flights: flight 1 is both hellos, sent at once; every later flight is
 * what each side sends after reading everything of the previous flight. A reconcile that
 * ends after flight f took f / 2 round trips. Every message goes through the real wire
 * path (payload map, CBOR envelope, frame decode), so its bytes are the bytes on the link
 * before the session's encryption. The loop is capped: a reconcile that does not go quiet
 * within `maxFlights` fails the caller's test.
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
  /** Flights until both sides went quiet; round trips are flights / 2. */
  readonly flights: number;
  readonly aToB: DirectionBytes;
  readonly bToA: DirectionBytes;
  readonly a: ReconcileReport;
  readonly b: ReconcileReport;
  /** Time in both reconcilers and the codec (not in counting the stores for hello), by `now`. */
  readonly cpuMs: number;
}

/** Options of {@link runSync}. */
export interface SyncOptions {
  /** Flights after which the run fails; default 24. */
  readonly maxFlights?: number;
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
 * @throws Error when the run is still talking after `maxFlights` flights
 */
export function runSync(a: SyncStore, b: SyncStore, options: SyncOptions = {}): SyncRun {
  const maxFlights = options.maxFlights ?? 24;
  const now = options.now ?? (() => 0);
  const countsA = countsOf(a);
  const countsB = countsOf(b);
  const t0 = now();
  const ra = new Reconciler(a);
  const rb = new Reconciler(b);
  const aToB = emptyBytes();
  const bToA = emptyBytes();
  const helloA = helloFrame(a, countsA, ra.hello());
  const helloB = helloFrame(b, countsB, rb.hello());
  aToB.hello = helloA.length;
  bToA.hello = helloB.length;
  aToB.messages = bToA.messages = 1;
  let flights = 1;
  let toB = frames(ra.begin(digestOf(helloB)), aToB);
  let toA = frames(rb.begin(digestOf(helloA)), bToA);
  while (toA.length > 0 || toB.length > 0) {
    flights += 1;
    if (flights > maxFlights)
      throw new Error(`reconcile still talking after ${maxFlights} flights`);
    const nextToA = frames(
      toB.flatMap((f) => rb.receive(fromFrame(f))),
      bToA,
    );
    const nextToB = frames(
      toA.flatMap((f) => ra.receive(fromFrame(f))),
      aToB,
    );
    toA = nextToA;
    toB = nextToB;
  }
  if (!ra.finished || !rb.finished) throw new Error('reconcile went quiet before both finished');
  return { flights, aToB, bToA, a: ra.report(), b: rb.report(), cpuMs: now() - t0 };
}

function frames(msgs: readonly ReconcileMessage[], tally: DirectionBytes): Uint8Array[] {
  return msgs.map((m) => {
    const f = toFrame(m);
    tally.messages += 1;
    if (m.type === 'entry') tally.entries += f.length;
    else tally.discovery += f.length;
    return f;
  });
}
