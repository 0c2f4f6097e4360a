/**
 * A rateless invertible Bloom lookup table over 48-bit sketch keys (spec/reconcile.md,
 * "Sketch"). A set is coded into an endless sequence of cells; the cell-wise XOR of two
 * sets' prefixes codes their symmetric difference, which peeling recovers once the prefix
 * is about 1.4 to 2 times as long as the difference.
 *
 * Each key is added to cell 0 and then to a sparse, key-seeded sequence of later cells:
 * cell i holds a given key with probability close to 1 / (1 + i / 2), so a prefix of any
 * length is a good sketch and the sender never needs to know the difference in advance.
 * A cell is 8 bytes on the wire: the XOR of its keys (6 bytes) and the XOR of their 16-bit
 * checks (2 bytes). There is no count: a side learns which side a peeled key is on by
 * looking it up in its own set.
 */

import { keyCheck, mixKey } from './item-hash.ts';

/** Bytes per cell on the wire: key sum (6, big-endian) then check sum (2, big-endian). */
export const CELL_BYTES = 8;

/** The highest cell index a sequence may reach; indices stop there. */
export const MAX_CELL_INDEX = 0x7fffffff;

const TWO_POW_32 = 0x100000000;

/**
 * Walks the cell indices of one key in increasing order, from 0. The state is a xorshift32
 * generator seeded by {@link mixKey} (1 when the mixer gives 0); each step draws u in (0, 1)
 * and moves forward by ceil((i + 1.5) * (1 / sqrt(u) - 1)), at least 1. spec/reconcile.md,
 * "Index sequence".
 */
export class IndexWalk {
  index = 0;
  private state: number;

  constructor(hi: number, lo: number) {
    this.state = walkSeed(hi, lo);
  }

  /** Moves to the next index and returns it (MAX_CELL_INDEX once the walk is past it). */
  next(): number {
    this.state = nextWalkState(this.state);
    this.index = nextWalkIndex(this.index, this.state);
    return this.index;
  }
}

/** The first state of the index walk of key (`hi`, `lo`): its mixer value, or 1 for 0. */
export function walkSeed(hi: number, lo: number): number {
  return mixKey(hi, lo) || 1;
}

/** The xorshift32 step of an index walk's state (shifts 13, 17, 5). */
export function nextWalkState(state: number): number {
  let s = state;
  s ^= s << 13;
  s ^= s >>> 17;
  s ^= s << 5;
  return s >>> 0;
}

/**
 * The index a walk moves to from `index` once its state has stepped to `state`: the step of
 * {@link IndexWalk}, for code that keeps many walks in arrays rather than as objects.
 */
export function nextWalkIndex(index: number, state: number): number {
  const u = state / TWO_POW_32;
  const gap = Math.max(1, Math.ceil((index + 1.5) * (1 / Math.sqrt(u) - 1)));
  return Math.min(MAX_CELL_INDEX, index + gap);
}

/** True when the key's index sequence passes through `index`. */
export function keyHitsIndex(hi: number, lo: number, index: number): boolean {
  if (index === 0) return true;
  const walk = new IndexWalk(hi, lo);
  let i = 0;
  while (i < index) i = walk.next();
  return i === index;
}

/** Cells in columns: key halves and check, one slot per cell index. */
export interface Cells {
  readonly hi: Int32Array;
  readonly lo: Int32Array;
  readonly chk: Int32Array;
}

/** Zeroed cells for `count` indices. */
export function emptyCells(count: number): Cells {
  return { hi: new Int32Array(count), lo: new Int32Array(count), chk: new Int32Array(count) };
}

/**
 * Codes a set of keys into cells [from, to). `keys` holds key numbers below 2^48.
 *
 * @throws RangeError when the range is empty, reversed or past MAX_CELL_INDEX
 */
export function encodeCells(keys: ArrayLike<number>, from: number, to: number): Cells {
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to <= from) {
    throw new RangeError(`expected a cell range 0 <= from < to, got [${from}, ${to})`);
  }
  if (to > MAX_CELL_INDEX) throw new RangeError(`expected to <= ${MAX_CELL_INDEX}, got ${to}`);
  const cells = emptyCells(to - from);
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k] as number;
    const hi = Math.floor(key / 0x1000000);
    const lo = key % 0x1000000;
    const chk = keyCheck(hi, lo);
    const walk = new IndexWalk(hi, lo);
    let i = 0;
    while (i < from) i = walk.next();
    while (i < to) {
      const j = i - from;
      cells.hi[j] = (cells.hi[j] as number) ^ hi;
      cells.lo[j] = (cells.lo[j] as number) ^ lo;
      cells.chk[j] = (cells.chk[j] as number) ^ chk;
      i = walk.next();
    }
  }
  return cells;
}

/**
 * Codes one set batch after batch: each call codes the cells from where the last one
 * stopped, resuming every key's index sequence instead of walking it again from 0.
 */
export class SketchEncoder {
  private readonly hi: Int32Array;
  private readonly lo: Int32Array;
  private readonly chk: Int32Array;
  private readonly walks: IndexWalk[];
  private end = 0;

  /** @param keys key numbers below 2^48 */
  constructor(keys: ArrayLike<number>) {
    const n = keys.length;
    this.hi = new Int32Array(n);
    this.lo = new Int32Array(n);
    this.chk = new Int32Array(n);
    this.walks = new Array<IndexWalk>(n);
    for (let k = 0; k < n; k++) {
      const key = keys[k] as number;
      const hi = Math.floor(key / 0x1000000);
      const lo = key % 0x1000000;
      this.hi[k] = hi;
      this.lo[k] = lo;
      this.chk[k] = keyCheck(hi, lo);
      this.walks[k] = new IndexWalk(hi, lo);
    }
  }

  /** Cells coded so far: the next call starts here. */
  get coded(): number {
    return this.end;
  }

  /**
   * Codes cells [coded, to).
   *
   * @throws RangeError when `to` is not past the cells already coded, or past MAX_CELL_INDEX
   */
  next(to: number): Cells {
    const from = this.end;
    if (!Number.isInteger(to) || to <= from || to > MAX_CELL_INDEX) {
      throw new RangeError(`expected a batch end in ${from + 1}..${MAX_CELL_INDEX}, got ${to}`);
    }
    const cells = emptyCells(to - from);
    for (let k = 0; k < this.walks.length; k++) {
      const walk = this.walks[k] as IndexWalk;
      const hi = this.hi[k] as number;
      const lo = this.lo[k] as number;
      const chk = this.chk[k] as number;
      while (walk.index < to) {
        const j = walk.index - from;
        cells.hi[j] = (cells.hi[j] as number) ^ hi;
        cells.lo[j] = (cells.lo[j] as number) ^ lo;
        cells.chk[j] = (cells.chk[j] as number) ^ chk;
        walk.next();
      }
    }
    this.end = to;
    return cells;
  }
}

/** Serialises cells: per cell, 3 bytes hi, 3 bytes lo, 2 bytes check, all big-endian. */
export function cellsToBytes(cells: Cells): Uint8Array {
  const n = cells.hi.length;
  const out = new Uint8Array(n * CELL_BYTES);
  for (let i = 0, o = 0; i < n; i++, o += CELL_BYTES) {
    const hi = cells.hi[i] as number;
    const lo = cells.lo[i] as number;
    const chk = cells.chk[i] as number;
    out[o] = hi >>> 16;
    out[o + 1] = hi >>> 8;
    out[o + 2] = hi;
    out[o + 3] = lo >>> 16;
    out[o + 4] = lo >>> 8;
    out[o + 5] = lo;
    out[o + 6] = chk >>> 8;
    out[o + 7] = chk;
  }
  return out;
}

/**
 * Parses cells written by {@link cellsToBytes}.
 *
 * @throws RangeError when the length is not a multiple of {@link CELL_BYTES}
 */
export function cellsFromBytes(bytes: Uint8Array): Cells {
  if (bytes.length % CELL_BYTES !== 0) {
    throw new RangeError(`expected a multiple of ${CELL_BYTES} cell bytes, got ${bytes.length}`);
  }
  const n = bytes.length / CELL_BYTES;
  const cells = emptyCells(n);
  const { hi, lo, chk } = cells;
  // Read in place: a helper closure per cell costs more than the reads themselves.
  for (let i = 0, o = 0; i < n; i++, o += CELL_BYTES) {
    hi[i] =
      ((bytes[o] as number) << 16) | ((bytes[o + 1] as number) << 8) | (bytes[o + 2] as number);
    lo[i] =
      ((bytes[o + 3] as number) << 16) | ((bytes[o + 4] as number) << 8) | (bytes[o + 5] as number);
    chk[i] = ((bytes[o + 6] as number) << 8) | (bytes[o + 7] as number);
  }
  return cells;
}

/** The outcome of peeling: the keys recovered and whether every cell emptied. */
export interface PeelResult {
  readonly decoded: boolean;
  readonly keys: number[];
}

/**
 * Peels difference cells (the XOR of two sets' cells over the same prefix [0, m)) in place.
 * A cell is pure when its check sum equals the check of its key sum and the key's index
 * sequence passes through the cell. The order is fixed (a FIFO seeded with the indices in
 * increasing order), so both sides, which hold the same difference cells, get the same
 * result; this is what lets both sides agree on a failure without a message.
 */
export function peelCells(cells: Cells): PeelResult {
  const m = cells.hi.length;
  const keys: number[] = [];
  const queue: number[] = [];
  for (let i = 0; i < m; i++) queue.push(i);
  const maxPeels = 2 * m + 16;
  for (let q = 0; q < queue.length && keys.length < maxPeels; q++) {
    const i = queue[q] as number;
    const hi = cells.hi[i] as number;
    const lo = cells.lo[i] as number;
    const chk = cells.chk[i] as number;
    if ((hi | lo | chk) === 0) continue;
    if (keyCheck(hi, lo) !== chk || !keyHitsIndex(hi, lo, i)) continue;
    keys.push(hi * 0x1000000 + lo);
    const walk = new IndexWalk(hi, lo);
    for (let j = 0; j < m; j = walk.next()) {
      cells.hi[j] = (cells.hi[j] as number) ^ hi;
      cells.lo[j] = (cells.lo[j] as number) ^ lo;
      cells.chk[j] = (cells.chk[j] as number) ^ chk;
      if (j !== i && ((cells.hi[j] as number) | (cells.lo[j] as number)) !== 0) queue.push(j);
    }
  }
  let decoded = true;
  for (let i = 0; i < m && decoded; i++) {
    if (((cells.hi[i] as number) | (cells.lo[i] as number) | (cells.chk[i] as number)) !== 0) {
      decoded = false;
    }
  }
  return { decoded, keys };
}

/** XORs `b` into `a` over their common length; returns `a`. */
export function xorCellsInto(a: Cells, b: Cells): Cells {
  const n = Math.min(a.hi.length, b.hi.length);
  for (let i = 0; i < n; i++) {
    a.hi[i] = (a.hi[i] as number) ^ (b.hi[i] as number);
    a.lo[i] = (a.lo[i] as number) ^ (b.lo[i] as number);
    a.chk[i] = (a.chk[i] as number) ^ (b.chk[i] as number);
  }
  return a;
}
