/**
 * A map from 48-bit sketch keys to row numbers for {@link BenchStore}: open addressing with
 * linear probing over one typed array of (key, row) slots, the keys held in the table
 * itself. A lookup reads one short run of slots, usually one cache line, where a `Map` of
 * 100,000 number keys reads a bucket, an entry chain and a boxed key: the lookups a
 * reconcile makes for the keys it decoded land on cold memory, and each cache line they
 * skip is time the reconcile saves.
 */

const EMPTY = -1;
/** The row number a lookup of an absent key returns. */
export const NO_ROW = -1;

/** Rows by key; keys are integers in 0..2^48 - 1. */
export class KeyTable {
  /** Slot s is [2 s] the key (EMPTY when free) and [2 s + 1] its row. */
  private slots: Float64Array;
  private mask: number;
  private used = 0;

  /** @throws RangeError when `slots` is not a power of two of at least 16 */
  constructor(slots = 1024) {
    if (!Number.isInteger(Math.log2(slots)) || slots < 16) {
      throw new RangeError(`expected a power of two >= 16 slots, got ${slots}`);
    }
    this.slots = new Float64Array(2 * slots).fill(EMPTY);
    this.mask = slots - 1;
  }

  /** Keys held. */
  get size(): number {
    return this.used;
  }

  /** A copy that shares nothing mutable with this table. */
  copy(): KeyTable {
    const c = new KeyTable(16);
    c.slots = this.slots.slice();
    c.mask = this.mask;
    c.used = this.used;
    return c;
  }

  /** The row of `key`, or {@link NO_ROW}. */
  get(key: number): number {
    // A negative key is never held (-1 marks an empty slot).
    if (!(key >= 0)) return NO_ROW;
    const { slots, mask } = this;
    for (let s = home(key, mask); ; s = (s + 1) & mask) {
      const k = slots[2 * s] as number;
      if (k === key) return slots[2 * s + 1] as number;
      if (k === EMPTY) return NO_ROW;
    }
  }

  /** Sets the row of `key`. @throws RangeError for a key outside 0..2^48 - 1 */
  set(key: number, row: number): void {
    if (!Number.isInteger(key) || key < 0 || key >= 2 ** 48) {
      throw new RangeError(`expected a key in 0..2^48 - 1, got ${key}`);
    }
    const s = this.slotOf(key);
    const fresh = this.slots[2 * s] !== key;
    this.slots[2 * s] = key;
    this.slots[2 * s + 1] = row;
    if (!fresh) return;
    this.used += 1;
    // Half full at most, so that a miss stops within a few slots.
    if (2 * this.used > this.mask + 1) this.resize(2 * (this.mask + 1));
  }

  /** Removes `key`; nothing when it is absent. */
  delete(key: number): void {
    if (!(key >= 0)) return;
    const { slots, mask } = this;
    let hole = this.slotOf(key);
    if (slots[2 * hole] !== key) return;
    // Backward shift: move up every later key of the run that may sit in the hole, so that
    // no lookup stops at an empty slot before its key.
    for (let s = (hole + 1) & mask; slots[2 * s] !== EMPTY; s = (s + 1) & mask) {
      const h = home(slots[2 * s] as number, mask);
      const fits = hole <= s ? h <= hole || h > s : h <= hole && h > s;
      if (fits) {
        slots[2 * hole] = slots[2 * s] as number;
        slots[2 * hole + 1] = slots[2 * s + 1] as number;
        hole = s;
      }
    }
    slots[2 * hole] = EMPTY;
    this.used -= 1;
  }

  /** The slot holding `key`, or the empty slot where it would go. */
  private slotOf(key: number): number {
    const { slots, mask } = this;
    let s = home(key, mask);
    while (slots[2 * s] !== key && slots[2 * s] !== EMPTY) s = (s + 1) & mask;
    return s;
  }

  private resize(count: number): void {
    const old = this.slots;
    this.slots = new Float64Array(2 * count).fill(EMPTY);
    this.mask = count - 1;
    for (let s = 0; s < old.length; s += 2) {
      const k = old[s] as number;
      if (k === EMPTY) continue;
      const t = this.slotOf(k);
      this.slots[2 * t] = k;
      this.slots[2 * t + 1] = old[s + 1] as number;
    }
  }
}

/** The first slot tried for `key`: both 24-bit halves mixed, then masked. */
function home(key: number, mask: number): number {
  const hi = Math.floor(key / 0x1000000);
  const lo = key - hi * 0x1000000;
  const x = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  return (x ^ (x >>> 15)) & mask;
}
