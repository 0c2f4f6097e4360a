/**
 * The store contract that reconciliation and transfers use (spec/reconcile.md, "Store
 * contract"). The SQLite store in node/ implements it, and so does the in-memory store
 * of protocol/merge/memory-store.ts that property tests and benchmarks run.
 *
 * Implementers must: keep the item hash and sketch key of every entry with its row
 * (protocol/reconcile/item-hash.ts), keep the digest (tree leaves, estimator), the
 * sketch prefix and the syndromes up to date on every write (protocol/reconcile/reconcile-index.ts does all
 * three), make `apply` atomic (an eviction and the insert it makes room for are
 * one write, so no reader ever sees more live entries than the capacity), and never evict
 * an entry that `mayEvict` refuses.
 */

import type { StoreDigest } from '../reconcile/messages.ts';
import type { Cells } from '../reconcile/riblt.ts';
import type { Entry, EntryHead, EntryKind } from './entry.ts';

/** What a full store does with one more live entry (MISSION: lru / alert / refuse). */
export type OverflowPolicy = 'lru' | 'alert' | 'refuse';

/** One entry version as reconciliation sees it: head, item hash (16 bytes), sketch key. */
export interface StoredItem {
  readonly head: EntryHead;
  readonly hash: Uint8Array;
  /** The 48-bit sketch key as an integer (protocol/reconcile/item-hash.ts, keyNumber). */
  readonly key: number;
}

/** What the caller of `apply` allows. */
export interface ApplyContext {
  /**
   * True when this live local entry may be evicted to make room. Reconciliation allows
   * only entries the peer holds in the same version, split between the two sides so
   * they never both evict one (spec/reconcile.md, "Overflow during reconcile").
   */
  readonly mayEvict: (item: StoredItem) => boolean;
}

/** What `apply` did. */
export type ApplyOutcome =
  /** Stored as a new record or a newer version; `evicted` names what made room. */
  | { readonly kind: 'stored'; readonly evicted: EntryHead | null }
  /** Not newer than the local version: nothing changed. */
  | { readonly kind: 'unchanged' }
  /** Newer, live, without DER, and no live local copy holds the DER: ask for it. */
  | { readonly kind: 'needs-der' }
  /** Full, and the policy (or a lack of an allowed victim) refuses it. */
  | { readonly kind: 'refused'; readonly code: 'store-full' | 'overflow-alert' };

/** Capacity and what happens at it. */
export interface CapacityInfo {
  /** Most live entries (certificates and CRLs) the store holds; null: unlimited. */
  readonly capacity: number | null;
  readonly policy: OverflowPolicy;
  /** Live entries held now. */
  readonly live: number;
}

/** The pre-check of an insert: fits, fits after evicting `victim`, or refused. */
export type RoomCheck =
  | { readonly kind: 'fits' }
  | { readonly kind: 'evict'; readonly victim: StoredItem }
  | { readonly kind: 'refused'; readonly code: 'store-full' | 'overflow-alert' };

/** A store as the sync protocol uses it. Calls are synchronous and atomic each. */
export interface SyncStore {
  /** The store's 16-byte origin id. */
  readonly origin: Uint8Array;
  /** Root, entry count and estimator, maintained incrementally. */
  digest(): StoreDigest;
  /**
   * The store's own sketch cells [from, to) (spec/reconcile.md, "Sketch"), or null when it
   * does not keep that many: the reconciler then codes them from {@link items}. A store
   * should keep the first cells up to date on every write (protocol/reconcile/
   * reconcile-index.ts keeps 4,096), so that a reconcile does not read the whole store.
   */
  sketchCells(from: number, to: number): Cells | null;
  /**
   * The store's first `t` syndromes (spec/reconcile.md, "Sketch syndromes"), or null when it
   * does not keep that many: the reconciler then computes them from {@link items}. A store
   * should keep the first 64 up to date on every write, as reconcile-index.ts does.
   */
  sketchSyndromes(t: number): Float64Array | null;
  /** Every entry version, live and deleted, in any order. */
  items(): Iterable<StoredItem>;
  /** The versions whose sketch key is `key` (almost always zero or one). */
  findByKey(key: number): readonly StoredItem[];
  /** The current record for a kind and fingerprint, with its DER when live; or null. */
  get(kind: EntryKind, fingerprint: Uint8Array): Entry | null;
  /** Capacity, policy and live count. */
  capacityInfo(): CapacityInfo;
  /** Whether one more live entry fits, and what it would evict; changes nothing. */
  checkRoom(ctx: ApplyContext): RoomCheck;
  /**
   * Merges one version from a peer by the merge rule (protocol/merge/merge-rule.ts),
   * evicting by the overflow policy when it needs room. Atomic.
   *
   * @throws RangeError when the entry is out of shape (protocol/merge/entry.ts, checkEntry)
   */
  apply(entry: Entry, ctx: ApplyContext): ApplyOutcome;
}
