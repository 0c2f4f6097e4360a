/**
 * The merge rule (spec/reconcile.md, "Merge rule"): what a store does with one version of
 * a record that arrives from a peer. Last writer wins per record, by (clock, origin):
 * the newer version replaces the whole record, metadata and deleted flag together. So a
 * deletion beats every older copy, and a re-import after a deletion (a newer live version)
 * beats the deletion. A version carries the DER only when the receiver may lack it.
 */

import { compareVersions, type Entry } from './entry.ts';

/** What to do with an incoming version. */
export type MergeDecision =
  /** The incoming version is not newer: keep the local record as it is. */
  | { readonly kind: 'keep' }
  /** Store `entry` (which may take the local DER); `needsRoom` when it makes a new live one. */
  | { readonly kind: 'take'; readonly entry: Entry; readonly needsRoom: boolean }
  /** The incoming version wins but is live without DER, and no live local copy has it. */
  | { readonly kind: 'needs-der' };

/**
 * Decides the merge of `incoming` into a store whose current record for the same kind and
 * fingerprint is `local` (null when it has none). Pure; never throws.
 */
export function decideMerge(local: Entry | null, incoming: Entry): MergeDecision {
  if (local !== null && compareVersions(incoming, local) <= 0) return { kind: 'keep' };
  const localLive = local !== null && !local.deleted;
  if (incoming.deleted) {
    return { kind: 'take', entry: { ...incoming, der: null }, needsRoom: false };
  }
  if (incoming.der !== null) return { kind: 'take', entry: incoming, needsRoom: !localLive };
  if (localLive && local.der !== null) {
    return { kind: 'take', entry: { ...incoming, der: local.der }, needsRoom: false };
  }
  return { kind: 'needs-der' };
}

/** The Lamport clock after seeing `clock`: never goes back. */
export function observeClock(current: number, clock: number): number {
  return clock > current ? clock : current;
}
