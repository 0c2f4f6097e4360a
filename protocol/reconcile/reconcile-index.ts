/**
 * What a store keeps up to date for reconciliation besides its rows (spec/reconcile.md,
 * "Store contract"): the digest tree, the estimator, the first cells of its sketch and its
 * first 64 syndromes. Every write adds the new version's item and removes the old one's,
 * each in O(1) (about 17 cell updates and 64 field products), so neither a hello nor the
 * sketch units a reconcile sends read the whole store.
 */

import { DigestTree } from './digest-tree.ts';
import { ESTIMATOR_BYTES, flipEstimator } from './estimator.ts';
import type { StoreDigest } from './messages.ts';
import type { Cells } from './riblt.ts';
import { SYNDROME_CAP } from './sketch-run.ts';
import { PREFIX_CELLS, SketchPrefix } from './sketch-prefix.ts';
import { SyndromeSketch } from './syndrome-sketch.ts';

/** The parts of a stored version the index reads: its item hash and sketch key. */
export interface IndexedItem {
  readonly hash: Uint8Array;
  readonly key: number;
}

/** Digest tree, estimator and sketch prefix of one store. */
export class ReconcileIndex {
  private tree = new DigestTree();
  private estimator = new Uint8Array(ESTIMATOR_BYTES);
  private prefix: SketchPrefix;
  private syndromes = new SyndromeSketch(SYNDROME_CAP);

  /** @throws RangeError when `prefixCells` is not a positive integer */
  constructor(prefixCells: number = PREFIX_CELLS) {
    this.prefix = new SketchPrefix(prefixCells);
  }

  /** A copy that shares nothing mutable with this index. */
  clone(): ReconcileIndex {
    const c = new ReconcileIndex(1);
    c.tree = this.tree.clone();
    c.estimator = this.estimator.slice();
    c.prefix = this.prefix.clone();
    c.syndromes = this.syndromes.clone();
    return c;
  }

  /** Versions covered: live records and tombstones. */
  get count(): number {
    return this.tree.count;
  }

  /** Takes in a version the store now holds. */
  add(item: IndexedItem): void {
    this.tree.toggle(item.hash, 1);
    this.toggle(item);
  }

  /** Takes out a version the store no longer holds. @throws RangeError when none is held */
  remove(item: IndexedItem): void {
    this.tree.toggle(item.hash, -1);
    this.toggle(item);
  }

  private toggle(item: IndexedItem): void {
    flipEstimator(this.estimator, item.hash);
    this.prefix.toggle(item.key);
    // Key 0 has no syndromes: it is 0 in every power sum (spec/reconcile.md, "Syndromes").
    if (item.key !== 0) this.syndromes.toggle(item.key);
  }

  /** Root, count and estimator, for the hello. */
  digest(): StoreDigest {
    return { root: this.tree.root(), count: this.tree.count, estimator: this.estimator.slice() };
  }

  /** The store's own cells [from, to), or null past the kept prefix. */
  cells(from: number, to: number): Cells | null {
    return this.prefix.read(from, to);
  }

  /** The store's first `t` syndromes, or null past the 64 kept. */
  syndromesUpTo(t: number): Float64Array | null {
    return t <= this.syndromes.capacity ? this.syndromes.read(t) : null;
  }
}
