/**
 * An in-memory {@link SyncStore}: the reference the property tests and benchmarks run, and
 * a model of what the SQLite store in node/ must do. It keeps per entry the item hash and
 * sketch key, and the digest tree, estimator and sketch prefix follow every write.
 *
 * Recency of use (for the lru policy) is local to a store and never synced.
 */

import { itemHash, keyNumber, sketchKey } from '../reconcile/item-hash.ts';
import type { StoreDigest } from '../reconcile/messages.ts';
import { ReconcileIndex } from '../reconcile/reconcile-index.ts';
import type { Cells } from '../reconcile/riblt.ts';
import {
  checkEntry,
  EMPTY_META,
  recordKey,
  type Entry,
  type EntryHead,
  type EntryKind,
  type SyncedMeta,
} from './entry.ts';
import { decideMerge, observeClock } from './merge-rule.ts';
import type {
  ApplyContext,
  ApplyOutcome,
  CapacityInfo,
  OverflowPolicy,
  RoomCheck,
  StoredItem,
  SyncStore,
} from './store.ts';

interface Row {
  entry: Entry;
  item: StoredItem;
  lastUsed: number;
}

/** Options of a {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** 16-byte origin id. */
  readonly origin: Uint8Array;
  /** Most live entries; null or absent: unlimited. */
  readonly capacity?: number | null;
  /** What a full store does; default `lru`. */
  readonly policy?: OverflowPolicy;
}

/** Lets every live entry be evicted: a local import on a full lru store. */
export const EVICT_ANY: ApplyContext = Object.freeze({ mayEvict: () => true });

/** A store held in memory. */
export class MemoryStore implements SyncStore {
  readonly origin: Uint8Array;
  private readonly capacity: number | null;
  private readonly policy: OverflowPolicy;
  private readonly rows = new Map<string, Row>();
  private readonly byKey = new Map<number, StoredItem[]>();
  private readonly index = new ReconcileIndex();
  private clock = 0;
  private live = 0;
  private useTick = 0;

  /** @throws RangeError when the origin is not 16 bytes or the capacity is not a count */
  constructor(options: MemoryStoreOptions) {
    if (options.origin.length !== 16) {
      throw new RangeError(`expected a 16-byte origin, got ${options.origin.length} bytes`);
    }
    const cap = options.capacity ?? null;
    if (cap !== null && (!Number.isInteger(cap) || cap < 0)) {
      throw new RangeError(`expected a capacity that is a count, got ${cap}`);
    }
    this.origin = options.origin.slice();
    this.capacity = cap;
    this.policy = options.policy ?? 'lru';
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

  items(): Iterable<StoredItem> {
    return [...this.rows.values()].map((r) => r.item);
  }

  findByKey(key: number): readonly StoredItem[] {
    return this.byKey.get(key) ?? [];
  }

  get(kind: EntryKind, fingerprint: Uint8Array): Entry | null {
    return this.rows.get(recordKey({ kind, fingerprint }))?.entry ?? null;
  }

  /** Every live entry, in no set order. */
  liveEntries(): Entry[] {
    return [...this.rows.values()].filter((r) => !r.entry.deleted).map((r) => r.entry);
  }

  /** Every tombstone, in no set order. */
  tombstones(): Entry[] {
    return [...this.rows.values()].filter((r) => r.entry.deleted).map((r) => r.entry);
  }

  capacityInfo(): CapacityInfo {
    return { capacity: this.capacity, policy: this.policy, live: this.live };
  }

  checkRoom(ctx: ApplyContext): RoomCheck {
    if (this.capacity === null || this.live < this.capacity) return { kind: 'fits' };
    if (this.policy === 'refuse') return { kind: 'refused', code: 'store-full' };
    if (this.policy === 'alert') return { kind: 'refused', code: 'overflow-alert' };
    let victim: Row | null = null;
    for (const row of this.rows.values()) {
      if (row.entry.deleted || row.entry.meta.pinned || !ctx.mayEvict(row.item)) continue;
      if (victim === null || row.lastUsed < victim.lastUsed) victim = row;
    }
    return victim === null
      ? { kind: 'refused', code: 'store-full' }
      : { kind: 'evict', victim: victim.item };
  }

  apply(entry: Entry, ctx: ApplyContext): ApplyOutcome {
    checkEntry(entry);
    this.clock = observeClock(this.clock, entry.clock);
    const row = this.rows.get(recordKey(entry));
    const decision = decideMerge(row?.entry ?? null, entry);
    if (decision.kind === 'keep') return { kind: 'unchanged' };
    if (decision.kind === 'needs-der') return { kind: 'needs-der' };
    let evicted: EntryHead | null = null;
    if (decision.needsRoom) {
      const room = this.checkRoom(ctx);
      if (room.kind === 'refused') return room;
      if (room.kind === 'evict') {
        evicted = room.victim.head;
        this.purge(evicted.kind, evicted.fingerprint);
      }
    }
    this.put(decision.entry, row?.lastUsed ?? this.useTick);
    return { kind: 'stored', evicted };
  }

  /**
   * Imports a certificate or CRL as a local write: a new version one past the clock, live,
   * with `meta`. On a full store the policy decides as for a peer's entry, any live entry
   * being a possible lru victim.
   */
  importEntry(kind: EntryKind, fingerprint: Uint8Array, der: Uint8Array, meta?: SyncedMeta) {
    return this.apply(this.stamp(kind, fingerprint, false, der, meta ?? EMPTY_META), EVICT_ANY);
  }

  /** Deletes as a local write: a tombstone one past the clock. False when nothing to delete. */
  deleteEntry(kind: EntryKind, fingerprint: Uint8Array): boolean {
    const row = this.rows.get(recordKey({ kind, fingerprint }));
    if (row === undefined || row.entry.deleted) return false;
    this.apply(this.stamp(kind, fingerprint, true, null, EMPTY_META), EVICT_ANY);
    return true;
  }

  /** Changes a live entry's synced metadata as a local write. False when not live here. */
  setMeta(kind: EntryKind, fingerprint: Uint8Array, meta: SyncedMeta): boolean {
    const row = this.rows.get(recordKey({ kind, fingerprint }));
    if (row === undefined || row.entry.deleted) return false;
    this.apply(this.stamp(kind, fingerprint, false, row.entry.der, meta), EVICT_ANY);
    return true;
  }

  /** Marks a live entry as just used (lru order). */
  touch(kind: EntryKind, fingerprint: Uint8Array): void {
    const row = this.rows.get(recordKey({ kind, fingerprint }));
    if (row !== undefined) row.lastUsed = ++this.useTick;
  }

  /** Removes a record without a tombstone (an eviction, or emptying for a replace-all). */
  purge(kind: EntryKind, fingerprint: Uint8Array): boolean {
    const k = recordKey({ kind, fingerprint });
    const row = this.rows.get(k);
    if (row === undefined) return false;
    this.unindex(row);
    this.rows.delete(k);
    return true;
  }

  private stamp(
    kind: EntryKind,
    fingerprint: Uint8Array,
    deleted: boolean,
    der: Uint8Array | null,
    meta: SyncedMeta,
  ): Entry {
    this.clock += 1;
    return { kind, fingerprint, deleted, clock: this.clock, origin: this.origin, der, meta };
  }

  private put(entry: Entry, lastUsed: number): void {
    const k = recordKey(entry);
    const old = this.rows.get(k);
    if (old !== undefined) this.unindex(old);
    const hash = itemHash(entry);
    const { hi, lo } = sketchKey(entry, hash);
    const stored: Entry = {
      kind: entry.kind,
      fingerprint: entry.fingerprint.slice(),
      deleted: entry.deleted,
      clock: entry.clock,
      origin: entry.origin.slice(),
      der: entry.der === null ? null : entry.der.slice(),
      meta: entry.deleted ? EMPTY_META : { label: entry.meta.label, pinned: entry.meta.pinned },
    };
    const item: StoredItem = { head: stored, hash, key: keyNumber(hi, lo) };
    this.rows.set(k, { entry: stored, item, lastUsed });
    const list = this.byKey.get(item.key);
    if (list === undefined) this.byKey.set(item.key, [item]);
    else list.push(item);
    this.index.add(item);
    if (!stored.deleted) this.live += 1;
  }

  private unindex(row: Row): void {
    const list = this.byKey.get(row.item.key) ?? [];
    const rest = list.filter((i) => i !== row.item);
    if (rest.length === 0) this.byKey.delete(row.item.key);
    else this.byKey.set(row.item.key, rest);
    this.index.remove(row.item);
    if (!row.entry.deleted) this.live -= 1;
  }
}
