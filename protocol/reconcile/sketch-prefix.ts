/**
 * The first cells of a store's own sketch (spec/reconcile.md, "Sketch"), kept up to date by
 * every write, so that a reconcile reads the cells it sends instead of coding the whole store
 * into them. A key lands in cell i with probability close to 1 / (1 + i/2), so keeping the
 * first 4,096 cells costs about 17 cell updates per write, and 48 KiB.
 *
 * Batches past the kept prefix (a difference of more than about 2,000 entries) are coded
 * from the store's keys as before: the payload of such a reconcile dwarfs that work.
 */

import { keyCheck } from './item-hash.ts';
import { emptyCells, IndexWalk, type Cells } from './riblt.ts';

/** Cells a store keeps by default. */
export const PREFIX_CELLS = 4_096;

/** The cells [0, size) of one store's set of sketch keys. */
export class SketchPrefix {
  readonly size: number;
  private readonly cells: Cells;

  /** @throws RangeError when `size` is not a positive integer */
  constructor(size: number = PREFIX_CELLS) {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`expected a prefix size >= 1, got ${size}`);
    }
    this.size = size;
    this.cells = emptyCells(size);
  }

  /** A copy that shares nothing mutable with this prefix. */
  clone(): SketchPrefix {
    const c = new SketchPrefix(this.size);
    c.cells.hi.set(this.cells.hi);
    c.cells.lo.set(this.cells.lo);
    c.cells.chk.set(this.cells.chk);
    return c;
  }

  /** Adds or removes one key (both are the same XOR). */
  toggle(key: number): void {
    const hi = Math.floor(key / 0x1000000);
    const lo = key % 0x1000000;
    const chk = keyCheck(hi, lo);
    const { hi: h, lo: l, chk: c } = this.cells;
    const walk = new IndexWalk(hi, lo);
    for (let i = 0; i < this.size; i = walk.next()) {
      h[i] = (h[i] as number) ^ hi;
      l[i] = (l[i] as number) ^ lo;
      c[i] = (c[i] as number) ^ chk;
    }
  }

  /** A copy of cells [from, to), or null when `to` is past the kept prefix. */
  read(from: number, to: number): Cells | null {
    if (to > this.size) return null;
    const { hi, lo, chk } = this.cells;
    return { hi: hi.slice(from, to), lo: lo.slice(from, to), chk: chk.slice(from, to) };
  }
}
