/**
 * One side of a two-way reconcile (spec/reconcile.md, "Session"), as a pure step machine:
 * it reads the store through {@link SyncStore}, takes the peer's messages one at a time
 * and returns the messages to send. No I/O, no clock, no randomness.
 *
 * Flights on a full-duplex link: both sides send their digest in hello (flight 1); equal
 * roots end there. Otherwise both stream sketch cells (flight 2): a first run sized from the
 * estimators, then more as the peer's cells arrive, never more than two chunks ahead of the
 * peer (protocol/reconcile/sketch-stream.ts). Both peel the same difference cells at the same
 * checkpoints and so decode at the same one; each then streams the entries only it holds and
 * `done` (flight 3, 1.5 round trips in all: no cell a side sends depends on what the peer
 * sent). When the sketch would cost more than the key lists, both send key lists instead,
 * and when a difference comes out empty although the roots differ (two versions with one
 * 48-bit key) both send their 16-byte item hashes.
 */

import { sha256 } from '@noble/hashes/sha2.js';
import { CertsyncError } from '../errors.ts';
import { compareBytes, toHex, type Entry, type EntryHead } from '../merge/entry.ts';
import type { ApplyContext, StoredItem, SyncStore } from '../merge/store.ts';
import { estimateDifference } from './estimator.ts';
import { keyDeleted, keyTag } from './item-hash.ts';
import {
  decodeStoreDigest,
  encodeStoreDigest,
  KEY_BYTES,
  MAX_WANTS,
  WIDE_KEY_BYTES,
  type ReconcileMessage,
  type StoreDigest,
} from './messages.ts';
import {
  CellRun,
  cellSchedule,
  OwnKeys,
  SYNDROME_CAP,
  SyndromeRun,
  syndromeSchedule,
  type RunStep,
} from './sketch-run.ts';

/** Limits on the messages one reconcile sends. */
export interface ReconcileOptions {
  /** Most cells in one `cells` message; default 480 (3,840 bytes, fits a 4 KiB frame). */
  readonly cellsPerMessage?: number;
  /** Most syndromes in one `syndromes` message; default 64 (384 bytes). */
  readonly syndromesPerMessage?: number;
  /** Most key bytes in one `keys` message; default 3,600. */
  readonly keyBytesPerMessage?: number;
  /**
   * Finds the difference as usual but sends none of the entries only this side holds: the
   * stream after decoding is `done` alone, and no entry is read from the store. The peer
   * then receives nothing to store. For timing the search for the difference apart from
   * the transfer; a session never sets it. A `want` is answered with `done` alone too.
   * Default false.
   */
  readonly withholdEntries?: boolean;
}

/** How the difference was found. */
export type ReconcileMode = 'equal' | 'syndromes' | 'sketch' | 'keys' | 'wide';

/** What one side did, for the session, the user and the tests. */
export interface ReconcileReport {
  readonly mode: ReconcileMode;
  /** Checkpoints at which this side decoded or tried to (1 when the first decoded). */
  readonly checkpoints: number;
  readonly syndromesSent: number;
  readonly cellsSent: number;
  /** Entries only this side held, and entries only the peer held, as decoded. */
  readonly localOnly: number;
  readonly remoteOnly: number;
  /** Entries sent with DER, metadata-only, and deletions. */
  readonly sentFull: number;
  readonly sentMeta: number;
  readonly sentDeleted: number;
  /** What the peer's entries did here. */
  readonly stored: number;
  readonly unchanged: number;
  readonly evicted: readonly EntryHead[];
  readonly refused: readonly { readonly head: EntryHead; readonly code: string }[];
  readonly wantsSent: number;
}

type Phase = 'hello' | 'sketch' | 'keys' | 'wide' | 'streaming' | 'finished';

type Mutable = {
  -readonly [K in keyof ReconcileReport]: ReconcileReport[K] extends readonly (infer T)[]
    ? T[]
    : ReconcileReport[K];
};

/** One side of a reconcile over `store`. */
export class Reconciler {
  private phase: Phase = 'hello';
  private readonly cellsPerMessage: number;
  private readonly keyBytesPerMessage: number;
  private own: StoreDigest | null = null;
  private peer: StoreDigest | null = null;
  private role = 0;
  private readonly ownKeys: OwnKeys;
  private readonly syndromesPerMessage: number;
  private readonly withholdEntries: boolean;
  private estimate = 0;
  /** The syndrome run, then (if it reached its cap) the cell run; late units go to both. */
  private syndromeRun: SyndromeRun | null = null;
  private cellRun: CellRun | null = null;
  private peerList: Uint8Array[] = [];
  private peerListBytes = 0;
  /** Keys (or, wide, hex hashes) of the entries only this side holds, from the decode. */
  private localOnly = new Set<number | string>();
  private donesReceived = 0;
  private readonly rep: Mutable = {
    mode: 'equal',
    checkpoints: 0,
    syndromesSent: 0,
    cellsSent: 0,
    localOnly: 0,
    remoteOnly: 0,
    sentFull: 0,
    sentMeta: 0,
    sentDeleted: 0,
    stored: 0,
    unchanged: 0,
    evicted: [],
    refused: [],
    wantsSent: 0,
  };

  constructor(
    private readonly store: SyncStore,
    options: ReconcileOptions = {},
  ) {
    this.cellsPerMessage = options.cellsPerMessage ?? 480;
    this.keyBytesPerMessage = options.keyBytesPerMessage ?? 3_600;
    this.syndromesPerMessage = options.syndromesPerMessage ?? SYNDROME_CAP;
    this.withholdEntries = options.withholdEntries ?? false;
    this.ownKeys = new OwnKeys(store);
    if (!Number.isInteger(this.cellsPerMessage) || this.cellsPerMessage < 1) {
      throw new RangeError(`expected cellsPerMessage >= 1, got ${this.cellsPerMessage}`);
    }
    if (!Number.isInteger(this.syndromesPerMessage) || this.syndromesPerMessage < 1) {
      throw new RangeError(`expected syndromesPerMessage >= 1, got ${this.syndromesPerMessage}`);
    }
    if (!Number.isInteger(this.keyBytesPerMessage) || this.keyBytesPerMessage < 48) {
      throw new RangeError(`expected keyBytesPerMessage >= 48, got ${this.keyBytesPerMessage}`);
    }
  }

  /** The digest bytes for this side's hello (`summary.digest`); read once per session. */
  hello(): Uint8Array {
    this.own = this.store.digest();
    return encodeStoreDigest(this.own);
  }

  /** True once this side has nothing more to send or wait for. */
  get finished(): boolean {
    return this.phase === 'finished';
  }

  /** What this side did so far. */
  report(): ReconcileReport {
    return {
      ...this.rep,
      checkpoints: (this.syndromeRun?.checkpoints ?? 0) + (this.cellRun?.checkpoints ?? 0),
      syndromesSent: this.syndromeRun?.sent ?? 0,
      cellsSent: this.cellRun?.sent ?? 0,
      evicted: [...this.rep.evicted],
      refused: [...this.rep.refused],
    };
  }

  /**
   * Starts the reconcile once the peer's hello has arrived with its digest bytes.
   *
   * @throws CertsyncError `malformed-message` for bad digest bytes; `unexpected-message`
   *   when called twice or before {@link hello}
   */
  begin(peerDigest: Uint8Array): ReconcileMessage[] {
    if (this.phase !== 'hello' || this.own === null) {
      throw new CertsyncError('unexpected-message', 'reconcile begun twice or before hello');
    }
    const own = this.own;
    const peer = decodeStoreDigest(peerDigest);
    this.peer = peer;
    const order = compareBytes(own.root, peer.root);
    if (order === 0) {
      this.phase = 'finished';
      return [];
    }
    this.role = order < 0 ? 0 : 1;
    this.estimate = estimateDifference(own.estimator, peer.estimator);
    this.phase = 'sketch';
    const small = syndromeSchedule(this.estimate, own.count, peer.count);
    if (small !== null) {
      this.rep.mode = 'syndromes';
      this.syndromeRun = new SyndromeRun(small, this.syndromesPerMessage, this.store, this.ownKeys);
      return this.syndromeRun.begin();
    }
    return this.startCells(this.estimate);
  }

  /** Starts the cell run for estimate `e`, or the key lists when those cost less. */
  private startCells(e: number): ReconcileMessage[] {
    const own = this.own as StoreDigest;
    const peer = this.peer as StoreDigest;
    const schedule = cellSchedule(e, own.count, peer.count);
    if (schedule === null) return this.startList(false);
    this.rep.mode = 'sketch';
    this.cellRun = new CellRun(schedule, this.cellsPerMessage, this.store, this.ownKeys);
    return this.cellRun.begin();
  }

  /**
   * Takes one message from the peer and returns what to send.
   *
   * @throws CertsyncError `unexpected-message` for a message out of order,
   *   `limit-exceeded` for more cells or keys than the session allows, `malformed-message`
   *   for an entry whose DER does not hash to its fingerprint
   */
  receive(msg: ReconcileMessage): ReconcileMessage[] {
    switch (msg.type) {
      case 'cells':
        return this.onUnits(this.cellRun, 'cells', msg.start, msg.cells);
      case 'syndromes':
        return this.onUnits(this.syndromeRun, 'syndromes', msg.start, msg.syndromes);
      case 'keys':
        return this.onKeys(msg.keys, msg.wide, msg.last);
      case 'entry':
        return this.onEntry(msg.entry);
      case 'want':
        return this.onWant(msg.records);
      case 'done':
        if (this.phase !== 'streaming' && this.phase !== 'finished') this.unexpected('done');
        this.donesReceived += 1;
        this.checkFinished();
        return [];
    }
  }

  private unexpected(what: string): never {
    throw new CertsyncError('unexpected-message', `reconcile: ${what} in phase ${this.phase}`);
  }

  private onUnits(
    run: CellRun | SyndromeRun | null,
    what: string,
    start: number,
    bytes: Uint8Array,
  ): ReconcileMessage[] {
    if (run === null) this.unexpected(what);
    const step: RunStep = run.take(start, bytes);
    switch (step.kind) {
      case 'waiting':
        return step.out;
      case 'decoded':
        return this.onKeyDifference(step.keys);
      case 'exhausted':
        // Syndromes that ran out mean a difference of at least the cap: cells take over.
        if (run === this.syndromeRun && this.cellRun === null) {
          return this.startCells(Math.max(this.estimate, SYNDROME_CAP));
        }
        return this.startList(false);
    }
  }

  private startList(wide: boolean): ReconcileMessage[] {
    this.phase = wide ? 'wide' : 'keys';
    this.rep.mode = wide ? 'wide' : 'keys';
    this.peerList = [];
    this.peerListBytes = 0;
    const size = wide ? WIDE_KEY_BYTES : KEY_BYTES;
    const items = [...this.store.items()];
    const all = new Uint8Array(items.length * size);
    items.forEach((item, i) => {
      if (wide) all.set(item.hash, i * size);
      else writeKey(all, i * size, item.key);
    });
    const per = Math.max(size, this.keyBytesPerMessage - (this.keyBytesPerMessage % size));
    const out: ReconcileMessage[] = [];
    for (let s = 0; s < all.length || s === 0; s += per) {
      const end = Math.min(all.length, s + per);
      out.push({ type: 'keys', keys: all.slice(s, end), wide, last: end === all.length });
      if (end === all.length) break;
    }
    return out;
  }

  private onKeys(keys: Uint8Array, wide: boolean, last: boolean): ReconcileMessage[] {
    if (this.phase !== (wide ? 'wide' : 'keys')) this.unexpected(wide ? 'wide keys' : 'keys');
    const size = wide ? WIDE_KEY_BYTES : KEY_BYTES;
    const peer = this.peer as StoreDigest;
    this.peerListBytes += keys.length;
    if (this.peerListBytes > peer.count * size) {
      throw new CertsyncError(
        'limit-exceeded',
        `reconcile: more keys than the ${peer.count} announced`,
      );
    }
    this.peerList.push(keys);
    if (!last) return [];
    const theirs = concat(this.peerList, this.peerListBytes);
    if (!wide) {
      const peerKeys: number[] = [];
      for (let o = 0; o < theirs.length; o += KEY_BYTES) peerKeys.push(readKey(theirs, o));
      const counts = new Map<number, number>();
      for (const k of this.ownKeys.get()) counts.set(k, (counts.get(k) ?? 0) + 1);
      for (const k of peerKeys) counts.set(k, (counts.get(k) ?? 0) - 1);
      const diff: number[] = [];
      for (const [k, c] of counts) if (c !== 0) diff.push(k);
      return this.onKeyDifference(diff);
    }
    const peerHashes = new Set<string>();
    for (let o = 0; o < theirs.length; o += WIDE_KEY_BYTES) {
      peerHashes.add(toHex(theirs.subarray(o, o + WIDE_KEY_BYTES)));
    }
    const mine = [...this.store.items()];
    const ownHashes = new Set(mine.map((i) => toHex(i.hash)));
    const localOnly = mine.filter((i) => !peerHashes.has(toHex(i.hash)));
    let remoteOnly = 0;
    for (const h of peerHashes) if (!ownHashes.has(h)) remoteOnly += 1;
    this.localOnly = new Set(localOnly.map((i) => toHex(i.hash)));
    return this.stream(localOnly, new Map(), remoteOnly);
  }

  /** The decoded (or listed) keys of the symmetric difference: split, pair, stream. */
  private onKeyDifference(keys: readonly number[]): ReconcileMessage[] {
    if (keys.length === 0) return this.startList(true);
    const localOnly: StoredItem[] = [];
    const remoteTags = new Map<number, boolean>();
    let remoteOnly = 0;
    for (const key of keys) {
      const mine = this.store.findByKey(key);
      if (mine.length > 0) {
        localOnly.push(...mine);
        this.localOnly.add(key);
      } else {
        remoteOnly += 1;
        const tag = keyTag(key);
        remoteTags.set(tag, (remoteTags.get(tag) ?? false) || !keyDeleted(key));
      }
    }
    return this.stream(localOnly, remoteTags, remoteOnly);
  }

  /**
   * Sends the entries only this side holds: deletions first (they free room at the peer),
   * then metadata-only versions of records the peer holds in another version (its key
   * shares our fingerprint tag), then full entries; then `done`. With `withholdEntries`,
   * `done` alone.
   */
  private stream(
    localOnly: readonly StoredItem[],
    remoteTags: ReadonlyMap<number, boolean>,
    remoteOnly: number,
  ): ReconcileMessage[] {
    this.phase = 'streaming';
    this.rep.localOnly = localOnly.length;
    this.rep.remoteOnly = remoteOnly;
    const deletions: ReconcileMessage[] = [];
    const metas: ReconcileMessage[] = [];
    const fulls: ReconcileMessage[] = [];
    for (const item of this.withholdEntries ? [] : localOnly) {
      const entry = this.store.get(item.head.kind, item.head.fingerprint);
      if (entry === null) continue;
      if (entry.deleted) {
        deletions.push({ type: 'entry', entry });
        this.rep.sentDeleted += 1;
      } else if (remoteTags.has(keyTag(item.key))) {
        metas.push({ type: 'entry', entry: { ...entry, der: null } });
        this.rep.sentMeta += 1;
      } else {
        fulls.push({ type: 'entry', entry });
        this.rep.sentFull += 1;
      }
    }
    const out = [...deletions, ...metas, ...fulls, { type: 'done' } as const];
    this.checkFinished();
    return out;
  }

  private mayEvict = (item: StoredItem): boolean => {
    if (item.head.deleted) return false;
    const id = this.rep.mode === 'wide' ? toHex(item.hash) : item.key;
    return !this.localOnly.has(id) && ((item.hash[14] as number) & 1) === this.role;
  };

  private readonly ctx: ApplyContext = { mayEvict: (item) => this.mayEvict(item) };

  private onEntry(entry: Entry): ReconcileMessage[] {
    if (this.phase !== 'streaming' && this.phase !== 'finished') this.unexpected('entry');
    if (entry.der !== null && compareBytes(sha256(entry.der), entry.fingerprint) !== 0) {
      throw new CertsyncError('malformed-message', 'reconcile: DER does not match its fingerprint');
    }
    const outcome = this.store.apply(entry, this.ctx);
    switch (outcome.kind) {
      case 'stored':
        this.rep.stored += 1;
        if (outcome.evicted !== null) this.rep.evicted.push(outcome.evicted);
        return [];
      case 'unchanged':
        this.rep.unchanged += 1;
        return [];
      case 'refused':
        this.rep.refused.push({ head: entry, code: outcome.code });
        return [];
      case 'needs-der':
        this.rep.wantsSent += 1;
        this.phase = 'streaming';
        return [{ type: 'want', records: [{ kind: entry.kind, fingerprint: entry.fingerprint }] }];
    }
  }

  private onWant(
    records: readonly { kind: Entry['kind']; fingerprint: Uint8Array }[],
  ): ReconcileMessage[] {
    if (this.phase !== 'streaming' && this.phase !== 'finished') this.unexpected('want');
    if (records.length > MAX_WANTS) {
      throw new CertsyncError('limit-exceeded', `reconcile: want of ${records.length} records`);
    }
    const out: ReconcileMessage[] = [];
    for (const r of this.withholdEntries ? [] : records) {
      const entry = this.store.get(r.kind, r.fingerprint);
      if (entry !== null) out.push({ type: 'entry', entry });
    }
    out.push({ type: 'done' });
    return out;
  }

  private checkFinished(): void {
    if (this.phase === 'streaming' && this.donesReceived >= 1 + this.rep.wantsSent) {
      this.phase = 'finished';
    }
  }
}

function writeKey(out: Uint8Array, o: number, key: number): void {
  const hi = Math.floor(key / 0x1000000);
  const lo = key % 0x1000000;
  out[o] = hi >>> 16;
  out[o + 1] = hi >>> 8;
  out[o + 2] = hi;
  out[o + 3] = lo >>> 16;
  out[o + 4] = lo >>> 8;
  out[o + 5] = lo;
}

function readKey(b: Uint8Array, o: number): number {
  const at = (k: number): number => b[o + k] as number;
  return (
    ((at(0) << 16) | (at(1) << 8) | at(2)) * 0x1000000 + ((at(3) << 16) | (at(4) << 8) | at(5))
  );
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
