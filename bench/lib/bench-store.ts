/**
 * The store the sync benchmark reconciles: a {@link SyncStore} that keeps per entry only
 * what reconciliation reads (head, item hash, sketch key, a 32-byte item id) and fetches
 * a certificate's DER from the {@link CertificatePool} when it is sent, as a store on disk
 * does. It follows the in-memory reference store (protocol/merge/memory-store.ts) write for
 * write: the same item hash, sketch key, digest tree, estimator and merge rule, so the
 * reconcile sees the digest and keys it would see there.
 *
 * Unlike the reference store it is unlimited (no capacity, no eviction) and it can be
 * copied cheaply, so every scheme of one benchmark case starts from the same two stores.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { recordKey, toHex, type Entry, type EntryKind } from '../../protocol/merge/entry.ts';
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
import { DigestTree } from '../../protocol/reconcile/digest-tree.ts';
import { ESTIMATOR_BYTES, flipEstimator } from '../../protocol/reconcile/estimator.ts';
import { itemHashInput, keyNumber, sketchKey } from '../../protocol/reconcile/item-hash.ts';
import type { StoreDigest } from '../../protocol/reconcile/messages.ts';
import type { CertificatePool } from './certificates.ts';

/** One row: the entry without its DER, where the DER is, and the reconcile's hashes. */
export interface BenchRow {
  /** The entry; `der` is null here for a live entry whose DER is in the pool. */
  readonly entry: Entry;
  /** Pool index of the DER, or -1 when `entry.der` holds it (or it is a tombstone). */
  readonly poolIndex: number;
  readonly item: StoredItem;
  /** SHA-256 of the item hash input: the 32-byte id the other schemes reconcile. */
  readonly id: Uint8Array;
}

/** A benchmark store over a certificate pool. */
export class BenchStore implements SyncStore {
  readonly origin: Uint8Array;
  private rows = new Map<string, BenchRow>();
  private byKey = new Map<number, StoredItem[]>();
  private tree = new DigestTree();
  private estimator = new Uint8Array(ESTIMATOR_BYTES);
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
    const row = this.rows.get(recordKey({ kind, fingerprint }));
    if (row === undefined || row.entry.deleted) return false;
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
    this.put(tomb, -1);
    return true;
  }

  /** A copy that shares nothing mutable with this store (rows are immutable). */
  copy(): BenchStore {
    const c = new BenchStore(this.pool, this.origin);
    c.rows = new Map(this.rows);
    for (const [k, v] of this.byKey) c.byKey.set(k, v.slice());
    for (const row of this.rows.values()) c.tree.toggle(row.item.hash, 1);
    c.estimator = this.estimator.slice();
    c.clock = this.clock;
    c.live = this.live;
    return c;
  }

  /** Every row, in no set order (the other schemes' view of the store). */
  allRows(): Iterable<BenchRow> {
    return this.rows.values();
  }

  /** Entries held, tombstones included. */
  get size(): number {
    return this.rows.size;
  }

  /** Live entries held. */
  get liveCount(): number {
    return this.live;
  }

  /** The whole entry of a row, with its DER. */
  entryOf(row: BenchRow): Entry {
    return this.withDer(row);
  }

  digest(): StoreDigest {
    return { root: this.tree.root(), count: this.tree.count, estimator: this.estimator.slice() };
  }

  items(): Iterable<StoredItem> {
    return [...this.rows.values()].map((r) => r.item);
  }

  findByKey(key: number): readonly StoredItem[] {
    return this.byKey.get(key) ?? [];
  }

  get(kind: EntryKind, fingerprint: Uint8Array): Entry | null {
    const row = this.rows.get(recordKey({ kind, fingerprint }));
    return row === undefined ? null : this.withDer(row);
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
    const row = this.rows.get(recordKey(entry));
    const decision = decideMerge(row === undefined ? null : this.withDer(row), entry);
    if (decision.kind === 'keep') return { kind: 'unchanged' };
    if (decision.kind === 'needs-der') return { kind: 'needs-der' };
    const taken = decision.entry;
    // A version that keeps the local DER keeps pointing at the pool.
    const samePoolDer =
      row !== undefined && row.poolIndex >= 0 && taken.der !== null && !taken.deleted;
    this.put(samePoolDer ? { ...taken, der: null } : taken, samePoolDer ? row.poolIndex : -1);
    return { kind: 'stored', evicted: null };
  }

  /** A sorted, comparable view of the content: one line per record and version. */
  contentLines(): string[] {
    const lines: string[] = [];
    for (const [k, row] of this.rows) {
      const e = row.entry;
      lines.push(`${k} ${e.deleted ? 'deleted' : 'live'} ${e.clock} ${toHex(e.origin)}`);
    }
    return lines.sort();
  }

  private withDer(row: BenchRow): Entry {
    if (row.poolIndex < 0) return row.entry;
    return { ...row.entry, der: this.pool.der(row.poolIndex) };
  }

  private put(entry: Entry, poolIndex: number): void {
    const k = recordKey(entry);
    const old = this.rows.get(k);
    if (old !== undefined) this.unindex(old);
    const id = sha256(itemHashInput(entry));
    const hash = id.subarray(0, 16);
    const { hi, lo } = sketchKey(entry, hash);
    const item: StoredItem = { head: entry, hash, key: keyNumber(hi, lo) };
    this.rows.set(k, { entry, poolIndex, item, id });
    const list = this.byKey.get(item.key);
    if (list === undefined) this.byKey.set(item.key, [item]);
    else list.push(item);
    this.tree.toggle(hash, 1);
    flipEstimator(this.estimator, hash);
    if (!entry.deleted) this.live += 1;
  }

  private unindex(row: BenchRow): void {
    const list = this.byKey.get(row.item.key) ?? [];
    const rest = list.filter((i) => i !== row.item);
    if (rest.length === 0) this.byKey.delete(row.item.key);
    else this.byKey.set(row.item.key, rest);
    this.tree.toggle(row.item.hash, -1);
    flipEstimator(this.estimator, row.item.hash);
    if (!row.entry.deleted) this.live -= 1;
  }
}
