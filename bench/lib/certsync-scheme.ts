/**
 * certsync's reconcile (protocol/reconcile/reconciler.ts) as a benchmark {@link SchemeSide}:
 * a hello carrying the store digest, then the reconciler's messages, every frame through the
 * real wire codec (protocol/messages/codec.ts), as a session sends them before encryption.
 */
import { decodeFrame, encodeMessage, encodeReconcile } from '../../protocol/messages/codec.ts';
import type { Entry } from '../../protocol/merge/entry.ts';
import type { SyncStore } from '../../protocol/merge/store.ts';
import {
  decodeReconcileMessage,
  encodeReconcileMessage,
  type ReconcileMessage,
} from '../../protocol/reconcile/messages.ts';
import { Reconciler, type ReconcileReport } from '../../protocol/reconcile/reconciler.ts';
import { DEFAULT_LIMITS } from '../../protocol/wire/limits.ts';
import type { Outgoing, SchemeSide, SideOptions } from './scheme.ts';

/** Live certificates and CRLs of a store, which a real store keeps as counters. */
export interface StoreCounts {
  readonly certificates: number;
  readonly crls: number;
}

/** Counts a store's live certificates and CRLs (outside any timed part). */
export function countStore(store: SyncStore): StoreCounts {
  let certificates = 0;
  let crls = 0;
  for (const item of store.items()) {
    if (item.head.deleted) continue;
    if (item.head.kind === 'cert') certificates += 1;
    else crls += 1;
  }
  return { certificates, crls };
}

/** One certsync `entry` frame: the payload frame every scheme of the benchmark sends. */
export function entryFrame(entry: Entry): Uint8Array {
  return reconcileFrame({ type: 'entry', entry });
}

/** Decodes a frame made by {@link entryFrame}. @throws Error for any other frame */
export function entryOfFrame(frame: Uint8Array): Entry {
  const msg = reconcileOfFrame(frame);
  if (msg.type !== 'entry') throw new Error(`expected an entry frame, got ${msg.type}`);
  return msg.entry;
}

function reconcileFrame(msg: ReconcileMessage): Uint8Array {
  const { code, payload } = encodeReconcileMessage(msg);
  return encodeReconcile(1, code, payload, DEFAULT_LIMITS);
}

function reconcileOfFrame(frame: Uint8Array): ReconcileMessage {
  const d = decodeFrame(frame, DEFAULT_LIMITS);
  if (d.kind !== 'reconcile') throw new Error(`expected a reconciliation frame, got ${d.kind}`);
  return decodeReconcileMessage(d.code, d.payload);
}

/**
 * certsync's side of a reconcile over `store`. With `withholdEntries` the reconciler's own
 * option of that name leaves out the entries (protocol/reconcile/reconciler.ts).
 */
export class CertsyncSide implements SchemeSide {
  private readonly reconciler: Reconciler;

  constructor(
    private readonly store: SyncStore,
    private readonly counts: StoreCounts,
    options: SideOptions = {},
  ) {
    this.reconciler = new Reconciler(store, { withholdEntries: options.withholdEntries ?? false });
  }

  get finished(): boolean {
    return this.reconciler.finished;
  }

  /** What the reconciler did. */
  report(): ReconcileReport {
    return this.reconciler.report();
  }

  start(): Outgoing[] {
    const cap = this.store.capacityInfo();
    const summary = {
      certificates: this.counts.certificates,
      crls: this.counts.crls,
      ...(cap.capacity === null ? {} : { capacity: cap.capacity, free: cap.capacity - cap.live }),
      digest: this.reconciler.hello(),
    };
    const hello = encodeMessage(
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
    return [{ frame: hello, payload: false }];
  }

  receive(frame: Uint8Array): Outgoing[] {
    const d = decodeFrame(frame, DEFAULT_LIMITS);
    let out: ReconcileMessage[];
    if (d.kind === 'message' && d.message.type === 'hello') {
      out = this.reconciler.begin(d.message.summary.digest);
    } else if (d.kind === 'reconcile') {
      out = this.reconciler.receive(decodeReconcileMessage(d.code, d.payload));
    } else {
      throw new Error(`certsync side: unexpected ${d.kind} frame`);
    }
    return out.map((m) => ({
      frame: reconcileFrame(m),
      payload: m.type === 'entry',
      ...(m.type === 'cells' || m.type === 'syndromes' ? { stream: m.type } : {}),
    }));
  }
}
