/**
 * The receiving half of a cell run (spec/reconcile.md, "Sketch cells" and "Procedure"): the
 * peer's cells as they arrive, and the difference cells (own XOR peer) peeled as they grow,
 * checkpoint by checkpoint. Both sides hold the same difference cells and peel them in the
 * same order, so both decode at the same checkpoint.
 */

import { CertsyncError } from '../errors.ts';
import { keyCheck } from './item-hash.ts';
import { emptyCells, nextWalkIndex, nextWalkState, walkSeed, type Cells } from './riblt.ts';

/**
 * Difference cells peeled as they grow. `extend` appends cells (own XOR peer) and peels what
 * the new cells make pure: the FIFO order of spec/reconcile.md, "Peeling", with the new
 * indices queued in increasing order after each extension.
 */
export class IncrementalPeeler {
  private cells: Cells = emptyCells(0);
  private length = 0;
  private nonZero = 0;
  private readonly keys: number[] = [];
  /**
   * Per recovered key: its halves and check, and its index walk (state and index) left at
   * its first index past the cells so far. Arrays rather than an object per key: peeling a
   * difference of thousands walks each key a dozen steps, and the steps are the cost.
   */
  private readonly keyHi: number[] = [];
  private readonly keyLo: number[] = [];
  private readonly keyChk: number[] = [];
  private readonly walkState: number[] = [];
  private readonly walkIndex: number[] = [];
  /** A candidate key's indices below the cells so far, from one walk. */
  private path: Int32Array = new Int32Array(64);
  private exhausted = false;

  /** Difference cells so far. */
  get size(): number {
    return this.length;
  }

  /** True when every cell so far is zero: the recovered keys are the whole difference. */
  get decoded(): boolean {
    return this.nonZero === 0 && !this.exhausted;
  }

  /** Keys recovered so far, in the order they peeled. */
  recovered(): readonly number[] {
    return this.keys;
  }

  /**
   * Appends difference cells [size, size + n) and peels. Stops peeling (and never reports
   * decoded again) once more than 2 m + 16 keys came out of m cells: only garbage does that.
   */
  extend(add: Cells): void {
    const from = this.length;
    const to = from + add.hi.length;
    this.grow(to);
    const { hi, lo, chk } = this.cells;
    for (let i = from; i < to; i++) {
      hi[i] = add.hi[i - from] as number;
      lo[i] = add.lo[i - from] as number;
      chk[i] = add.chk[i - from] as number;
      if (((hi[i] as number) | (lo[i] as number) | (chk[i] as number)) !== 0) this.nonZero += 1;
    }
    this.length = to;
    // Keys recovered before: XOR them out of the new cells they pass through.
    for (let k = 0; k < this.keys.length; k++) {
      let index = this.walkIndex[k] as number;
      if (index >= to) continue;
      let state = this.walkState[k] as number;
      const h = this.keyHi[k] as number;
      const l = this.keyLo[k] as number;
      const c = this.keyChk[k] as number;
      while (index < to) {
        this.toggle(index, h, l, c);
        state = nextWalkState(state);
        index = nextWalkIndex(index, state);
      }
      this.walkState[k] = state;
      this.walkIndex[k] = index;
    }
    if (this.exhausted) return;
    const queue: number[] = [];
    for (let i = from; i < to; i++) queue.push(i);
    const maxKeys = 2 * to + 16;
    for (let q = 0; q < queue.length; q++) {
      const i = queue[q] as number;
      const h = hi[i] as number;
      const l = lo[i] as number;
      const c = chk[i] as number;
      if ((h | l | c) === 0 || keyCheck(h, l) !== c) continue;
      // One walk serves both the purity test (does the sequence pass through i?) and the
      // peel: its indices below `to` are kept, and XORed only when i is among them.
      let state = walkSeed(h, l);
      let steps = 0;
      let hits = false;
      let j = 0;
      for (; j < to; j = nextWalkIndex(j, state)) {
        if (steps === this.path.length) this.path = growInts(this.path);
        this.path[steps++] = j;
        if (j === i) hits = true;
        state = nextWalkState(state);
      }
      if (!hits) continue;
      if (this.keys.length >= maxKeys) {
        this.exhausted = true;
        return;
      }
      const path = this.path;
      for (let s = 0; s < steps; s++) {
        const at = path[s] as number;
        this.toggle(at, h, l, c);
        if (at !== i && ((hi[at] as number) | (lo[at] as number)) !== 0) queue.push(at);
      }
      this.keys.push(h * 0x1000000 + l);
      this.keyHi.push(h);
      this.keyLo.push(l);
      this.keyChk.push(c);
      // The walk stopped at its first index at or past `to`: the next extension resumes it.
      this.walkState.push(state);
      this.walkIndex.push(j);
    }
  }

  /** XORs one key (halves `h`, `l`, check `c`) into cell `i`, keeping the non-zero count. */
  private toggle(i: number, h: number, l: number, c: number): void {
    const { hi, lo, chk } = this.cells;
    const wasZero = ((hi[i] as number) | (lo[i] as number) | (chk[i] as number)) === 0;
    const nh = (hi[i] as number) ^ h;
    const nl = (lo[i] as number) ^ l;
    const nc = (chk[i] as number) ^ c;
    hi[i] = nh;
    lo[i] = nl;
    chk[i] = nc;
    const isZero = (nh | nl | nc) === 0;
    if (wasZero && !isZero) this.nonZero += 1;
    else if (!wasZero && isZero) this.nonZero -= 1;
  }

  private grow(to: number): void {
    if (to <= this.cells.hi.length) return;
    const size = Math.max(to, 2 * this.cells.hi.length, 64);
    const next = emptyCells(size);
    next.hi.set(this.cells.hi);
    next.lo.set(this.cells.lo);
    next.chk.set(this.cells.chk);
    this.cells = next;
  }
}

function growInts(a: Int32Array): Int32Array {
  const b = new Int32Array(2 * a.length);
  b.set(a);
  return b;
}

/**
 * The peer's cells as they arrive: in order from 0, never past the cap.
 *
 * @throws CertsyncError `unexpected-message` for cells out of order, `limit-exceeded` past
 *   the cap
 */
export class PeerCells {
  private cells: Cells = emptyCells(0);
  private received = 0;

  constructor(private readonly cap: number) {}

  /** Cells received so far. */
  get count(): number {
    return this.received;
  }

  add(start: number, cells: Cells): void {
    const n = cells.hi.length;
    if (start !== this.received) {
      throw new CertsyncError(
        'unexpected-message',
        `reconcile: cells from ${start}, not ${this.received}`,
      );
    }
    if (start + n > this.cap) {
      throw new CertsyncError('limit-exceeded', `reconcile: cells past the cap ${this.cap}`);
    }
    if (start + n > this.cells.hi.length) {
      const next = emptyCells(Math.min(this.cap, Math.max(start + n, 2 * this.cells.hi.length)));
      next.hi.set(this.cells.hi);
      next.lo.set(this.cells.lo);
      next.chk.set(this.cells.chk);
      this.cells = next;
    }
    this.cells.hi.set(cells.hi, start);
    this.cells.lo.set(cells.lo, start);
    this.cells.chk.set(cells.chk, start);
    this.received += n;
  }

  /** The XOR of `own` (cells [from, to)) with the peer's cells there. */
  xorWith(own: Cells, from: number): Cells {
    const n = own.hi.length;
    const out = emptyCells(n);
    for (let i = 0; i < n; i++) {
      out.hi[i] = (own.hi[i] as number) ^ (this.cells.hi[from + i] as number);
      out.lo[i] = (own.lo[i] as number) ^ (this.cells.lo[from + i] as number);
      out.chk[i] = (own.chk[i] as number) ^ (this.cells.chk[from + i] as number);
    }
    return out;
  }
}
