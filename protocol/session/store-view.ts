/**
 * What a session needs from the world below and beside it, as interfaces the node layer
 * implements: the store ({@link StoreView}) and the reconciliation engine
 * ({@link Reconciler}). The session engine calls them synchronously and never keeps what
 * they return beyond one step.
 */

import type { TransferMode, ListOrder } from '../messages/catalog.ts';
import type { Item, ItemResult, ListEntry, StoreSummary, Tombstone } from '../messages/records.ts';
import type { CborKey, CborValue } from '../wire/cbor.ts';

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
  | { readonly kind: 'overflow'; readonly candidates: readonly ListEntry[] };

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
   * Applies one received item or tombstone under `mode` (spec/protocol.md, "Transfer
   * modes"; the merge rule of spec/reconcile.md for `sync`). `victim`, when given, is the
   * hex id the peer chose after an overflow alert: evict it, then apply.
   */
  receive(entry: Item | Tombstone, mode: TransferMode, victim?: string): ReceiveOutcome;

  /**
   * Ends a replace-all: removes every live item whose hex id is not in `keep`, writing
   * tombstones, and returns how many it removed.
   */
  removeAllExcept(keep: ReadonlySet<string>): number;

  /** Deletes one item (hex id) on the peer's request, writing a tombstone. */
  delete(id: string): ItemResult;
}

/** A reconciliation message: a type code in 16..31 and its payload map. */
export interface ReconcileMessage {
  readonly code: number;
  readonly payload: ReadonlyMap<CborKey, CborValue>;
}

/** What one reconciliation step produced. */
export interface ReconcileStep<S> {
  readonly state: S;
  readonly send: readonly ReconcileMessage[];
  /**
   * Set when this side knows the difference: hex ids of the versions it holds that the peer
   * lacks (they are streamed in a `sync` transfer in the same flight).
   */
  readonly peerLacks?: readonly string[];
}

/**
 * The reconciliation engine as the session drives it (spec/reconcile.md). Pure: it reads the
 * store's digests through whatever it was built with, and keeps its progress in `S`.
 * Its methods throw only {@link CertsyncError} (`malformed-message` for a bad payload,
 * `sketch-undecodable`, ...).
 */
export interface Reconciler<S = unknown> {
  /** Starts a reconciliation, knowing the digest the peer sent in its hello. */
  begin(peerDigest: Uint8Array): ReconcileStep<S>;
  /** Handles one reconciliation message; `state` is null when the peer started. */
  receive(state: S | null, peerDigest: Uint8Array, message: ReconcileMessage): ReconcileStep<S>;
}
