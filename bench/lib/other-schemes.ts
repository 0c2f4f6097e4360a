/**
 * The comparison schemes of the sync benchmark as {@link SchemeSide}s over the same
 * {@link BenchStore}s as certsync, each item named by its 32-byte id (SHA-256 of
 * certsync's item hash input, so every version of a record has its own id):
 *
 * - negentropy (negentropy.ts): the initiator learns the difference over as many rounds as
 *   the ranges need; then it sends the entries only it holds and a want list of the ids it
 *   lacks (32 bytes each), and the responder sends those entries.
 * - naive: both sides send their full id list at once, then each sends the entries the
 *   other lacks: one round trip, 32 bytes per item each way.
 *
 * With `withholdEntries` (scheme.ts) both find the difference and exchange every id list,
 * want and `done` as usual, and send no entries.
 *
 * Both end with a `done` frame. Their own frames start with a tag byte (below any CBOR
 * array head, so they never look like a certsync entry frame); entries travel in
 * certsync's entry frames, so payload bytes are alike across schemes.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { compareBytes } from '../../protocol/merge/entry.ts';
import type { ApplyContext } from '../../protocol/merge/store.ts';
import type { BenchRow, BenchStore } from './bench-store.ts';
import { entryFrame, entryOfFrame } from './certsync-scheme.ts';
import { ID_BYTES, Negentropy, NegentropyStorage } from './negentropy.ts';
import type { Outgoing, SchemeSide, SideOptions } from './scheme.ts';

const TAG_NEGENTROPY = 0x01;
const TAG_WANT = 0x02;
const TAG_DONE = 0x03;
const TAG_LIST = 0x04;
const TAG_LIST_LAST = 0x05;

/** Ids per list or want frame: 120 x 32 = 3,840 bytes, under a 4 KiB frame. */
export const IDS_PER_FRAME = 120;
/** The negentropy frame size limit used: 4 KiB, the smallest the description allows. */
export const NEGENTROPY_FRAME_LIMIT = 4_096;

const NO_EVICTION: ApplyContext = Object.freeze({ mayEvict: () => false });

const keyOf = (id: Uint8Array): string => Buffer.from(id).toString('latin1');

function tagged(tag: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + body.length);
  out[0] = tag;
  out.set(body, 1);
  return out;
}

/** Id-list frames: `tag` on all but the last, `lastTag` on the last (always one frame). */
function idFrames(ids: readonly Uint8Array[], tag: number, lastTag: number): Outgoing[] {
  const out: Outgoing[] = [];
  for (let s = 0; s < ids.length || s === 0; s += IDS_PER_FRAME) {
    const part = ids.slice(s, s + IDS_PER_FRAME);
    const body = new Uint8Array(part.length * ID_BYTES);
    part.forEach((id, i) => body.set(id, i * ID_BYTES));
    const last = s + IDS_PER_FRAME >= ids.length;
    out.push({ frame: tagged(last ? lastTag : tag, body), payload: false });
    if (last) break;
  }
  return out;
}

function idsOf(body: Uint8Array): Uint8Array[] {
  if (body.length % ID_BYTES !== 0) throw new RangeError('id list: not a whole number of ids');
  const ids: Uint8Array[] = [];
  for (let o = 0; o < body.length; o += ID_BYTES) ids.push(body.subarray(o, o + ID_BYTES));
  return ids;
}

/** Shared by both schemes: the store indexed by id, sending and applying entries. */
abstract class IdSide implements SchemeSide {
  protected readonly byId = new Map<string, BenchRow>();
  protected doneSent = false;
  protected doneReceived = false;
  private readonly withholdEntries: boolean;

  /** Indexes the store by id: upkeep a real store would do on write, outside the timing. */
  constructor(
    protected readonly store: BenchStore,
    options: SideOptions = {},
  ) {
    this.withholdEntries = options.withholdEntries ?? false;
    for (const row of store.allRows()) this.byId.set(keyOf(row.id), row);
  }

  abstract start(): Outgoing[];
  abstract receive(frame: Uint8Array): Outgoing[];
  abstract get finished(): boolean;

  /** The entry frames of `ids`; none when entries are withheld (nothing is looked up). */
  protected entries(ids: Iterable<Uint8Array>): Outgoing[] {
    const out: Outgoing[] = [];
    if (this.withholdEntries) return out;
    for (const id of ids) {
      const row = this.byId.get(keyOf(id));
      if (row === undefined) throw new Error('asked for an id this side does not hold');
      out.push({ frame: entryFrame(this.store.entryOf(row)), payload: true });
    }
    return out;
  }

  /** Applies a peer's entry, checking its DER against its fingerprint as certsync does. */
  protected applyEntry(frame: Uint8Array): void {
    const entry = entryOfFrame(frame);
    if (entry.der !== null && compareBytes(sha256(entry.der), entry.fingerprint) !== 0) {
      throw new Error('an entry whose DER does not match its fingerprint');
    }
    this.store.apply(entry, NO_EVICTION);
  }

  protected done(flag: number): Outgoing {
    this.doneSent = true;
    return { frame: Uint8Array.of(TAG_DONE, flag), payload: false };
  }
}

/** One side of the negentropy scheme; `initiator` starts and learns the difference. */
export class NegentropySide extends IdSide {
  private readonly neg: Negentropy;
  private wantsSent = false;
  private peerWanted = false;
  /** Rounds of negentropy messages this side sent. */
  rounds = 0;

  constructor(
    store: BenchStore,
    private readonly initiator: boolean,
    options: SideOptions = {},
  ) {
    super(store, options);
    const items = [...store.allRows()].map((r) => ({ timestamp: r.entry.clock, id: r.id }));
    this.neg = new Negentropy(new NegentropyStorage(items), NEGENTROPY_FRAME_LIMIT);
  }

  get finished(): boolean {
    if (this.initiator) return this.doneSent && (!this.wantsSent || this.doneReceived);
    return this.doneReceived && (!this.peerWanted || this.doneSent);
  }

  start(): Outgoing[] {
    if (!this.initiator) return [];
    this.rounds += 1;
    return [{ frame: tagged(TAG_NEGENTROPY, this.neg.initiate()), payload: false }];
  }

  /** What the initiator learnt, by id: an id can be reported in two rounds. */
  private readonly have = new Map<string, Uint8Array>();
  private readonly need = new Map<string, Uint8Array>();

  receive(frame: Uint8Array): Outgoing[] {
    const tag = frame[0];
    const body = frame.subarray(1);
    if (tag === TAG_NEGENTROPY) {
      const step = this.neg.reconcile(body);
      for (const id of step.have) this.have.set(keyOf(id), id);
      for (const id of step.need) this.need.set(keyOf(id), id);
      if (step.output !== null) {
        this.rounds += 1;
        return [{ frame: tagged(TAG_NEGENTROPY, step.output), payload: false }];
      }
      // The initiator is done: its entries, then what it wants, then done.
      const out = this.entries(this.have.values());
      this.wantsSent = this.need.size > 0;
      if (this.wantsSent) out.push(...idFrames([...this.need.values()], TAG_WANT, TAG_WANT));
      out.push(this.done(this.wantsSent ? 1 : 0));
      return out;
    }
    if (tag === TAG_WANT) {
      this.peerWanted = true;
      return this.entries(idsOf(body));
    }
    if (tag === TAG_DONE) {
      this.doneReceived = true;
      // The responder closes its answer to the wants (sent before this) with its own done.
      if (!this.initiator && frame[1] === 1) return [this.done(0)];
      return [];
    }
    this.applyEntry(frame);
    return [];
  }
}

/** One side of the naive scheme: full id lists both ways, then the missing entries. */
export class NaiveSide extends IdSide {
  private readonly peerIds = new Set<string>();
  private listDone = false;

  get finished(): boolean {
    return this.doneSent && this.doneReceived;
  }

  start(): Outgoing[] {
    const ids = [...this.store.allRows()].map((r) => r.id);
    return idFrames(ids, TAG_LIST, TAG_LIST_LAST);
  }

  receive(frame: Uint8Array): Outgoing[] {
    const tag = frame[0];
    if (tag === TAG_LIST || tag === TAG_LIST_LAST) {
      if (this.listDone) throw new Error('naive: a second id list');
      for (const id of idsOf(frame.subarray(1))) this.peerIds.add(keyOf(id));
      if (tag === TAG_LIST) return [];
      this.listDone = true;
      const missing: Uint8Array[] = [];
      for (const [k, row] of this.byId) if (!this.peerIds.has(k)) missing.push(row.id);
      return [...this.entries(missing), this.done(0)];
    }
    if (tag === TAG_DONE) {
      this.doneReceived = true;
      return [];
    }
    this.applyEntry(frame);
    return [];
  }
}
