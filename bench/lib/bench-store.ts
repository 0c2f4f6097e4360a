/**
 * The store the sync benchmark reconciles: a {@link SyncStore} that keeps per record only
 * what reconciliation reads, in columns of typed arrays (fingerprint, 32-byte item id whose
 * first 16 bytes are the item hash, sketch key, clock, origin, flags, pool index), about
 * 130 bytes a record with its two lookup maps, and fetches a certificate's DER from the
 * {@link CertificatePool} when it is sent, as a store on disk does. It follows the
 * in-memory reference store (protocol/merge/memory-store.ts) write for write: the same item
 * hash, sketch key, digest tree, estimator, sketch prefix and merge rule, so the reconcile
 * sees what it would see there.
 *
 * Unlike the reference store it is unlimited (no capacity, no eviction, no purge: a record
 * only ever gets a newer version) and it copies cheaply, so every scheme of one benchmark
 * case starts from the same two stores.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex, type Entry, type EntryHead, type EntryKind } from '../../protocol/merge/entry.ts';
import { EMPTY_META, checkEntry } from '../../protocol/merge/entry.ts';
import { decideMerge, observeClock } from '../../protocol/merge/merge-rule.ts';
import type {
  ApplyContext,
  ApplyOutcome,
  CapacityInfo,
  RoomCheck,
  StoredItem,
  SyncStore,
} from '../../protocol/merge/store.ts';
import { itemHashInput, keyNumber, sketchKey } from '../../protocol/reconcile/item-hash.ts';
import type { StoreDigest } from '../../protocol/reconcile/messages.ts';
import { ReconcileIndex } from '../../protocol/reconcile/reconcile-index.ts';
import type { Cells } from '../../protocol/reconcile/riblt.ts';
import type { CertificatePool } from './certificates.ts';
import { KeyTable } from './key-table.ts';

/** One record as the other schemes and the tests see it, made on demand. */
export interface BenchRow {
  /** Row number inside its store. */
  readonly row: number;
  /** The entry; `der` is null here for a live entry whose DER is in the pool. */
  readonly entry: Entry;
  readonly item: StoredItem;
  /** SHA-256 of the item hash input: the 32-byte id the other schemes reconcile. */
  readonly id: Uint8Array;
}

const DELETED = 1;
const CRL = 2;
const PINNED = 4;
const NONE = -1;

/** A number for a record's lookup map: fingerprint bytes 0..5 and the kind. */
function recordNumber(kind: EntryKind, fp: Uint8Array): number {
  const head = ((fp[0] as number) << 16) | ((fp[1] as number) << 8) | (fp[2] as number);
  const tail = ((fp[3] as number) << 16) | ((fp[4] as number) << 8) | (fp[5] as number);
  return (head * 0x1000000 + tail) * 2 + (kind === 'crl' ? 1 : 0);
}

/** A benchmark store over a certificate pool. */
export class BenchStore implements SyncStore {
  readonly origin: Uint8Array;
  private rows = 0;
  private fps = new Uint8Array(0);
  private ids = new Uint8Array(0);
  private keys = new Float64Array(0);
  private clocks = new Float64Array(0);
  private originOf = new Uint8Array(0);
  private flags = new Uint8Array(0);
  private poolIndex = new Int32Array(0);
  /** Rows whose record number or key another row shares: chains through these. */
  private nextByRecord = new Int32Array(0);
  private nextByKey = new Int32Array(0);
  private byRecord = new Map<number, number>();
  private byKey = new KeyTable();
  /** The few origins every version comes from, by index. */
  private origins: Uint8Array[] = [];
  private labels = new Map<number, string>();
  /** DER of live rows whose DER is not the pool's (none in the benchmark's own cases). */
  private ders = new Map<number, Uint8Array>();
  private index = new ReconcileIndex();
  private clock = 0;
  private live = 0;

  /** @throws RangeError when the origin is not 16 bytes */
  constructor(
    readonly pool: CertificatePool,
    origin: Uint8Array,
  ) {
    if (origin.length !== 16) {
      throw new RangeError(`expected a 16-byte origin, got ${origin.length} bytes`);
    }
    this.origin = origin.slice();
  }

  /** Adds pool certificate `i` as a live entry of version (`clock`, `origin`). */
  addFromPool(i: number, clock: number, origin: Uint8Array): void {
    const entry: Entry = {
      kind: 'cert',
      fingerprint: this.pool.fingerprint(i),
      deleted: false,
      clock,
      origin,
      der: null,
      meta: EMPTY_META,
    };
    this.clock = observeClock(this.clock, clock);
    this.put(entry, i);
  }

  /** Deletes as a local write: a tombstone one past the clock. False when not live here. */
  deleteEntry(kind: EntryKind, fingerprint: Uint8Array): boolean {
    const r = this.find(kind, fingerprint);
    if (r === NONE || (this.flags[r] as number) & DELETED) return false;
    this.clock += 1;
    const tomb: Entry = {
      kind,
      fingerprint,
      deleted: true,
      clock: this.clock,
      origin: this.origin,
      der: null,
      meta: EMPTY_META,
    };
    this.put(tomb, NONE);
    return true;
  }

  /** A copy that shares nothing mutable with this store. */
  copy(): BenchStore {
    const c = new BenchStore(this.pool, this.origin);
    c.rows = this.rows;
    c.fps = this.fps.slice();
    c.ids = this.ids.slice();
    c.keys = this.keys.slice();
    c.clocks = this.clocks.slice();
    c.originOf = this.originOf.slice();
    c.flags = this.flags.slice();
    c.poolIndex = this.poolIndex.slice();
    c.nextByRecord = this.nextByRecord.slice();
    c.nextByKey = this.nextByKey.slice();
    c.byRecord = new Map(this.byRecord);
    c.byKey = this.byKey.copy();
    c.origins = this.origins.slice();
    c.labels = new Map(this.labels);
    c.ders = new Map(this.ders);
    c.index = this.index.clone();
    c.clock = this.clock;
    c.live = this.live;
    return c;
  }

  /** Every record, in row order (the other schemes' view of the store). */
  *allRows(): Iterable<BenchRow> {
    for (let r = 0; r < this.rows; r++) yield this.rowView(r);
  }

  /** Records held, tombstones included. */
  get size(): number {
    return this.rows;
  }

  /** Live entries held. */
  get liveCount(): number {
    return this.live;
  }

  /** The whole entry of a row, with its DER. */
  entryOf(row: BenchRow): Entry {
    return this.entryAt(row.row, true);
  }

  digest(): StoreDigest {
    return this.index.digest();
  }

  sketchCells(from: number, to: number): Cells | null {
    return this.index.cells(from, to);
  }

  sketchSyndromes(t: number): Float64Array | null {
    return this.index.syndromesUpTo(t);
  }

  *items(): Iterable<StoredItem> {
    for (let r = 0; r < this.rows; r++) yield this.itemAt(r);
  }

  findByKey(key: number): readonly StoredItem[] {
    const out: StoredItem[] = [];
    for (let r = this.byKey.get(key); r !== NONE; r = this.nextByKey[r] as number) {
      out.push(this.itemAt(r));
    }
    return out;
  }

  get(kind: EntryKind, fingerprint: Uint8Array): Entry | null {
    const r = this.find(kind, fingerprint);
    return r === NONE ? null : this.entryAt(r, true);
  }

  capacityInfo(): CapacityInfo {
    return { capacity: null, policy: 'lru', live: this.live };
  }

  checkRoom(): RoomCheck {
    return { kind: 'fits' };
  }

  apply(entry: Entry, ctx: ApplyContext): ApplyOutcome {
    void ctx;
    checkEntry(entry);
    this.clock = observeClock(this.clock, entry.clock);
    const r = this.find(entry.kind, entry.fingerprint);
    const decision = decideMerge(r === NONE ? null : this.entryAt(r, true), entry);
    if (decision.kind === 'keep') return { kind: 'unchanged' };
    if (decision.kind === 'needs-der') return { kind: 'needs-der' };
    const taken = decision.entry;
    // A version that keeps the local DER keeps pointing at the pool.
    const kept = r === NONE ? NONE : (this.poolIndex[r] as number);
    const samePoolDer = kept !== NONE && taken.der !== null && !taken.deleted;
    this.put(samePoolDer ? { ...taken, der: null } : taken, samePoolDer ? kept : NONE);
    return { kind: 'stored', evicted: null };
  }

  /** A sorted, comparable view of the content: one line per record and version. */
  contentLines(): string[] {
    const lines: string[] = [];
    for (let r = 0; r < this.rows; r++) {
      const e = this.entryAt(r, false);
      const k = `${e.kind}:${toHex(e.fingerprint)}`;
      lines.push(`${k} ${e.deleted ? 'deleted' : 'live'} ${e.clock} ${toHex(e.origin)}`);
    }
    return lines.sort();
  }

  private find(kind: EntryKind, fp: Uint8Array): number {
    const wantCrl = kind === 'crl' ? CRL : 0;
    let r = this.byRecord.get(recordNumber(kind, fp)) ?? NONE;
    for (; r !== NONE; r = this.nextByRecord[r] as number) {
      if (((this.flags[r] as number) & CRL) !== wantCrl) continue;
      if (sameBytes(this.fps, r * 32, fp)) return r;
    }
    return NONE;
  }

  private head(r: number): EntryHead {
    const f = this.flags[r] as number;
    return {
      kind: f & CRL ? 'crl' : 'cert',
      fingerprint: this.fps.subarray(r * 32, r * 32 + 32),
      deleted: (f & DELETED) !== 0,
      clock: this.clocks[r] as number,
      origin: this.origins[this.originOf[r] as number] as Uint8Array,
    };
  }

  private itemAt(r: number): StoredItem {
    return {
      head: this.head(r),
      hash: this.ids.subarray(r * 32, r * 32 + 16),
      key: this.keys[r] as number,
    };
  }

  private entryAt(r: number, withDer: boolean): Entry {
    const h = this.head(r);
    const f = this.flags[r] as number;
    const p = this.poolIndex[r] as number;
    let der: Uint8Array | null = null;
    if (!h.deleted) der = p !== NONE ? (withDer ? this.pool.der(p) : null) : this.ders.get(r)!;
    const meta = h.deleted
      ? EMPTY_META
      : { label: this.labels.get(r) ?? null, pinned: (f & PINNED) !== 0 };
    return { ...h, der, meta };
  }

  private rowView(r: number): BenchRow {
    return {
      row: r,
      entry: this.entryAt(r, false),
      item: this.itemAt(r),
      id: this.ids.subarray(r * 32, r * 32 + 32),
    };
  }

  private originIndex(origin: Uint8Array): number {
    const at = this.origins.findIndex((o) => sameBytes(o, 0, origin));
    if (at >= 0) return at;
    if (this.origins.length === 255) throw new RangeError('expected at most 255 origins');
    this.origins.push(origin.slice());
    return this.origins.length - 1;
  }

  private grow(): void {
    const cap = Math.max(1024, this.keys.length * 2);
    const widen = <T extends Uint8Array | Float64Array | Int32Array>(a: T, per: number): T => {
      const b = new (a.constructor as new (n: number) => T)(cap * per);
      b.set(a);
      return b;
    };
    this.fps = widen(this.fps, 32);
    this.ids = widen(this.ids, 32);
    this.keys = widen(this.keys, 1);
    this.clocks = widen(this.clocks, 1);
    this.originOf = widen(this.originOf, 1);
    this.flags = widen(this.flags, 1);
    this.poolIndex = widen(this.poolIndex, 1);
    this.nextByRecord = widen(this.nextByRecord, 1);
    this.nextByKey = widen(this.nextByKey, 1);
  }

  /** Writes `entry` into its record's row (a new row for a new record). */
  private put(entry: Entry, poolIndex: number): void {
    let r = this.find(entry.kind, entry.fingerprint);
    if (r === NONE) {
      if (this.rows === this.keys.length) this.grow();
      r = this.rows++;
      this.fps.set(entry.fingerprint, r * 32);
      const rn = recordNumber(entry.kind, entry.fingerprint);
      this.nextByRecord[r] = this.byRecord.get(rn) ?? NONE;
      this.byRecord.set(rn, r);
    } else {
      this.unindex(r);
    }
    const id = sha256(itemHashInput(entry));
    const hash = id.subarray(0, 16);
    const { hi, lo } = sketchKey(entry, hash);
    const key = keyNumber(hi, lo);
    this.ids.set(id, r * 32);
    this.keys[r] = key;
    this.clocks[r] = entry.clock;
    this.originOf[r] = this.originIndex(entry.origin);
    const meta = entry.deleted ? EMPTY_META : entry.meta;
    this.flags[r] =
      (entry.deleted ? DELETED : 0) | (entry.kind === 'crl' ? CRL : 0) | (meta.pinned ? PINNED : 0);
    this.poolIndex[r] = poolIndex;
    if (meta.label === null) this.labels.delete(r);
    else this.labels.set(r, meta.label);
    if (entry.deleted || poolIndex !== NONE) this.ders.delete(r);
    else this.ders.set(r, (entry.der as Uint8Array).slice());
    this.nextByKey[r] = this.byKey.get(key);
    this.byKey.set(key, r);
    this.index.add({ hash, key });
    if (!entry.deleted) this.live += 1;
  }

  /** Takes row `r`'s current version out of the key chain, the index and the live count. */
  private unindex(r: number): void {
    const key = this.keys[r] as number;
    const first = this.byKey.get(key);
    if (first === r) {
      const rest = this.nextByKey[r] as number;
      if (rest === NONE) this.byKey.delete(key);
      else this.byKey.set(key, rest);
    } else {
      let p = first;
      while (p !== NONE && this.nextByKey[p] !== r) p = this.nextByKey[p] as number;
      if (p !== NONE) this.nextByKey[p] = this.nextByKey[r] as number;
    }
    this.index.remove({ hash: this.ids.subarray(r * 32, r * 32 + 16), key });
    if (!((this.flags[r] as number) & DELETED)) this.live -= 1;
  }
}

function sameBytes(a: Uint8Array, at: number, b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (a[at + i] !== b[i]) return false;
  return true;
}
