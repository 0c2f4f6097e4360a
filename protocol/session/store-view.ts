/**
 * What a session needs from the world below and beside it, as interfaces the node layer
 * implements: the store ({@link StoreView}) and the reconciliation engine
 * ({@link SessionReconciler}). The session engine calls them synchronously and never keeps
 * what they return beyond one step. They are the only stateful things a step touches.
 */

import type { TransferMode, ListOrder } from '../messages/catalog.ts';
import type { Item, ItemResult, ListEntry, StoreSummary, Tombstone } from '../messages/records.ts';
import type { ReconcileMessage } from '../reconcile/messages.ts';

/** One page of a listing, as the store answers it. */
export interface ListQuery {
  readonly order: ListOrder;
  /** Only these items (hex ids), in the order asked; absent: the whole store. */
  readonly only?: ReadonlySet<string>;
  /** From a previous page; absent: the first page. Opaque to the session. */
  readonly cursor?: Uint8Array;
  /** Most entries wanted, 1..512. */
  readonly limit: number;
}

/** A page of entries and the cursor of the next one. */
export interface ListResult {
  readonly entries: readonly ListEntry[];
  readonly next?: Uint8Array;
  readonly total: number;
}

/** What happened to one received item or tombstone. */
export type ReceiveOutcome =
  /** Done: stored, updated, unchanged, refused or invalid. */
  | { readonly kind: 'done'; readonly result: ItemResult }
  /**
   * The store is full and its policy is `alert`: nothing was written. The session asks the
   * peer to choose a victim among `candidates` (at most 16), or to abort.
   */
  | { readonly kind: 'overflow'; readonly candidates: readonly ListEntry[] }
  /**
   * To take the entry the store would remove `victim` (hex id), which the peer may lack: an
   * `lru` eviction or the room a replace-all makes (the record an `update` replaces is a
   * deletion the user asked for, never offered).
   * Nothing was written. The session first offers the victim to the peer and, once the peer
   * holds it, calls `receive` again with `victim`; if the peer does not take it, the entry
   * is refused with `store-full` (spec/protocol.md, "Last copies"). A store returns this
   * for every such victim that `context.peerHolds` does not name.
   */
  | { readonly kind: 'offer-first'; readonly victim: string };

/** What the session knows when it hands the store one received entry. */
export interface ReceiveContext {
  /**
   * Hex ids the session knows the peer holds (spec/protocol.md, "Last copies"): a victim
   * among them is removed without being offered first.
   */
  readonly peerHolds: ReadonlySet<string>;
  /**
   * Hex ids this transfer has carried so far. They are part of the selection: an `update`
   * never replaces one, `lru` never evicts one, and a replace-all never removes one to make
   * room (spec/reconcile.md, "Transfer modes").
   */
  readonly carried: ReadonlySet<string>;
}

/**
 * The store as a session sees it. Every method is synchronous and atomic: it either makes
 * its whole change or none, and capacity holds at every moment a reader can see.
 * Methods throw only {@link CertsyncError}; the session turns a throw into an `error`
 * message to the peer and closes.
 */
export interface StoreView {
  /** Counts, room and digest for the hello. */
  summary(): StoreSummary;

  /** One page of a listing. */
  list(query: ListQuery): ListResult;

  /** Every item id (hex) a pull by filter `all` sends, in store order. */
  selectAll(): readonly string[];

  /**
   * The current version of each id (hex) to send: an item with its DER, or a tombstone.
   * Ids the store does not hold are left out.
   */
  read(ids: readonly string[]): readonly (Item | Tombstone)[];

  /**
   * Applies one received item or tombstone under `mode` (spec/protocol.md, "Transfers";
   * spec/reconcile.md, "Transfer modes"), as one atomic write. `victim`, when given, is the
   * hex id the peer chose after an overflow alert, or the one the store asked to offer and
   * the peer now holds: the store removes it (a tombstone when it is the record an `update`
   * replaces, else a purge, without one), then stores the entry. Without `context` the
   * session knows nothing: every victim is offered first and nothing counts as carried.
   */
  receive(
    entry: Item | Tombstone,
    mode: TransferMode,
    victim?: string,
    context?: ReceiveContext,
  ): ReceiveOutcome;

  /**
   * Ends a replace-all: removes every live item whose hex id is not in `keep` without a
   * tombstone (a purge: the sender's copies must not be deleted by a later reconcile), and
   * returns how many it removed.
   */
  removeAllExcept(keep: ReadonlySet<string>): number;

  /** Deletes one item (hex id) on the peer's request, writing a tombstone. */
  delete(id: string): ItemResult;
}

/**
 * The reconciliation engine as the session drives it: protocol/reconcile/reconciler.ts
 * (spec/reconcile.md) has this shape. It reaches the store through its own contract, keeps
 * its own progress, and throws only {@link CertsyncError}. Both sides begin once the hellos
 * are exchanged; a side that receives a reconciliation message before it began begins first.
 */
export interface SessionReconciler {
  /** The store digest bytes this side sends in its hello (`summary.digest`). */
  hello(): Uint8Array;
  /** Starts, knowing the peer's digest bytes; returns the messages to send. */
  begin(peerDigest: Uint8Array): readonly ReconcileMessage[];
  /** Takes one message from the peer; returns the messages to send. */
  receive(message: ReconcileMessage): readonly ReconcileMessage[];
  /** True once this side has nothing more to send or wait for. */
  readonly finished: boolean;
  /** What the reconcile did, for the user (protocol/reconcile/reconciler.ts's report). */
  report(): object;
  /**
   * Hex ids of the items this side holds that the peer lacks, when the reconcile learnt them
   * and has not sent them yet; null otherwise. Lets a `list-request` with filter `lacking`
   * be answered. Optional.
   */
  peerLacks?(): readonly string[] | null;
}
