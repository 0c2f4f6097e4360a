/**
 * Range-based set reconciliation as negentropy protocol version 1 describes it, written
 * for this benchmark from the published protocol description (no registry package of it
 * exists for Node; no code was taken from any implementation). It is the comparison
 * scheme of bench/sync.bench.ts.
 *
 * The protocol, in brief: both sides sort their items by (timestamp, 32-byte id). A message
 * is a version byte (0x61) and a run of ranges, each an exclusive upper bound (its lower
 * bound is the previous range's upper bound), a mode and a payload: Skip (nothing),
 * Fingerprint (16 bytes) or IdList (a count and the ids). A range's fingerprint is the
 * first 16 bytes of SHA-256 over the sum of its ids, read as little-endian 256-bit
 * integers, mod 2^256, followed by the varint count of items. A side that receives a
 * fingerprint differing from its own splits its range into 16 buckets of equal count (or
 * lists the ids when fewer than 32), and the initiator, which alone learns the difference,
 * ends when its reply would skip everything. Bounds carry a timestamp as a delta from the
 * previous bound of the message (0 = infinity) and the shortest id prefix that separates
 * the bound's item from its predecessor. Varints are base-128, most significant digit
 * first. A frame size limit makes a side stop early and cover the rest of the universe by
 * one fingerprint range, which the peer splits in the next round.
 *
 * Shortcoming: the fingerprint of a range is summed afresh each time (no precomputed
 * tree), as the description's basic implementation does; large sets cost O(n) per round.
 */
import { sha256 } from '@noble/hashes/sha2.js';

/** Protocol version 1's leading byte. */
export const PROTOCOL_VERSION = 0x61;
/** Bytes of an id and of a fingerprint. */
export const ID_BYTES = 32;
export const FINGERPRINT_BYTES = 16;
/** Buckets a differing range is split into; ranges under twice this are listed. */
export const BUCKETS = 16;
/** The smallest frame size limit the description allows (0 means none). */
export const MIN_FRAME_LIMIT = 4_096;

const MODE_SKIP = 0;
const MODE_FINGERPRINT = 1;
const MODE_IDLIST = 2;

/** One item: a timestamp (a safe integer; ordering first) and a 32-byte id. */
export interface NegentropyItem {
  readonly timestamp: number;
  readonly id: Uint8Array;
}

interface Bound {
  /** Infinity is the bound after every item. */
  readonly timestamp: number;
  readonly prefix: Uint8Array;
}

const ZERO_BOUND: Bound = { timestamp: 0, prefix: new Uint8Array(0) };
const INFINITY_BOUND: Bound = { timestamp: Infinity, prefix: new Uint8Array(0) };

function compareIds(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < ID_BYTES; i++) {
    const x = (a[i] ?? 0) - (b[i] ?? 0);
    if (x !== 0) return x;
  }
  return 0;
}

function compareItems(a: NegentropyItem, b: NegentropyItem): number {
  return a.timestamp !== b.timestamp ? a.timestamp - b.timestamp : compareIds(a.id, b.id);
}

/** A side's sorted items, with ids also held as 32-bit limbs for fast fingerprint sums. */
export class NegentropyStorage {
  private readonly items: NegentropyItem[];
  private readonly limbs: Uint32Array;

  /** Sorts `items`. @throws RangeError for an id that is not 32 bytes, or a bad timestamp */
  constructor(items: Iterable<NegentropyItem>) {
    this.items = [...items];
    for (const it of this.items) {
      if (it.id.length !== ID_BYTES) {
        throw new RangeError(`expected a 32-byte id, got ${it.id.length} bytes`);
      }
      if (!Number.isSafeInteger(it.timestamp) || it.timestamp < 0) {
        throw new RangeError(`expected a timestamp in 0..2^53-1, got ${it.timestamp}`);
      }
    }
    this.items.sort(compareItems);
    this.limbs = new Uint32Array(this.items.length * 8);
    this.items.forEach((it, i) => {
      const v = new DataView(it.id.buffer, it.id.byteOffset, ID_BYTES);
      for (let k = 0; k < 8; k++) this.limbs[i * 8 + k] = v.getUint32(4 * k, true);
    });
  }

  get size(): number {
    return this.items.length;
  }

  item(i: number): NegentropyItem {
    return this.items[i] as NegentropyItem;
  }

  /** The fingerprint of items [begin, end). */
  fingerprint(begin: number, end: number): Uint8Array {
    const acc = new Uint32Array(8);
    const limbs = this.limbs;
    for (let i = begin; i < end; i++) {
      let carry = 0;
      for (let k = 0; k < 8; k++) {
        const s = (acc[k] as number) + (limbs[i * 8 + k] as number) + carry;
        acc[k] = s >>> 0;
        carry = s > 0xffffffff ? 1 : 0;
      }
    }
    const count = encodeVarint(end - begin);
    const input = new Uint8Array(ID_BYTES + count.length);
    const v = new DataView(input.buffer);
    for (let k = 0; k < 8; k++) v.setUint32(4 * k, acc[k] as number, true);
    input.set(count, ID_BYTES);
    return sha256(input).subarray(0, FINGERPRINT_BYTES);
  }

  /** The first index in [begin, end) whose item is at or above `bound`; else `end`. */
  lowerBound(begin: number, end: number, bound: Bound): number {
    let lo = begin;
    let hi = end;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (itemBelow(this.item(mid), bound)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function itemBelow(item: NegentropyItem, bound: Bound): boolean {
  if (item.timestamp !== bound.timestamp) return item.timestamp < bound.timestamp;
  return compareIds(item.id, bound.prefix) < 0;
}

/** Base-128 varint, most significant digit first. */
export function encodeVarint(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`expected a count, got ${n}`);
  const digits: number[] = [];
  do {
    digits.unshift(n % 128);
    n = Math.floor(n / 128);
  } while (n > 0);
  for (let i = 0; i < digits.length - 1; i++) digits[i]! |= 0x80;
  return Uint8Array.from(digits);
}

/** A byte reader over one message; throws RangeError on a short or oversized field. */
class Reader {
  private o = 0;
  constructor(private readonly b: Uint8Array) {}
  get done(): boolean {
    return this.o >= this.b.length;
  }
  byte(): number {
    if (this.o >= this.b.length) throw new RangeError('negentropy message: ends early');
    return this.b[this.o++] as number;
  }
  bytes(n: number): Uint8Array {
    if (this.o + n > this.b.length) throw new RangeError('negentropy message: ends early');
    const out = this.b.subarray(this.o, this.o + n);
    this.o += n;
    return out;
  }
  varint(): number {
    let n = 0;
    for (;;) {
      const x = this.byte();
      n = n * 128 + (x & 0x7f);
      if (n > Number.MAX_SAFE_INTEGER) throw new RangeError('negentropy message: varint too big');
      if ((x & 0x80) === 0) return n;
    }
  }
}

/** A growing message with the timestamp-delta state of its bounds. */
class Writer {
  parts: Uint8Array[] = [];
  length = 0;
  lastTimestamp = 0;
  push(b: Uint8Array): void {
    this.parts.push(b);
    this.length += b.length;
  }
  bound(b: Bound): void {
    if (b.timestamp === Infinity) {
      this.push(encodeVarint(0));
      this.lastTimestamp = Infinity;
    } else {
      this.push(encodeVarint(1 + b.timestamp - this.lastTimestamp));
      this.lastTimestamp = b.timestamp;
    }
    this.push(encodeVarint(b.prefix.length));
    this.push(b.prefix);
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/** The shortest bound above item `prev` and at or below item `next`. */
function separatingBound(prev: NegentropyItem, next: NegentropyItem): Bound {
  if (prev.timestamp !== next.timestamp) {
    return { timestamp: next.timestamp, prefix: new Uint8Array(0) };
  }
  let shared = 0;
  while (shared < ID_BYTES && prev.id[shared] === next.id[shared]) shared++;
  return { timestamp: next.timestamp, prefix: next.id.slice(0, shared + 1) };
}

/** What one call of {@link Negentropy.reconcile} learnt, and what to send. */
export interface ReconcileStep {
  /** The reply, or null when the initiator is done. */
  readonly output: Uint8Array | null;
  /**
   * Initiator only: ids it holds that the peer lacks, and ids it lacks. A range cut off by
   * the frame size limit is reconciled again later, so an id may be reported twice.
   */
  readonly have: Uint8Array[];
  readonly need: Uint8Array[];
}

/** One side of a negentropy reconciliation. */
export class Negentropy {
  private initiator = false;

  /** @throws RangeError for a frame size limit that is neither 0 nor at least 4,096 */
  constructor(
    private readonly storage: NegentropyStorage,
    private readonly frameLimit = 0,
  ) {
    if (frameLimit !== 0 && !(Number.isInteger(frameLimit) && frameLimit >= MIN_FRAME_LIMIT)) {
      throw new RangeError(
        `expected a frame limit of 0 or >= ${MIN_FRAME_LIMIT}, got ${frameLimit}`,
      );
    }
  }

  /** The initiator's first message, covering the whole universe. */
  initiate(): Uint8Array {
    this.initiator = true;
    const w = new Writer();
    w.push(Uint8Array.of(PROTOCOL_VERSION));
    this.split(0, this.storage.size, INFINITY_BOUND, w);
    return w.bytes();
  }

  /**
   * Answers one message of the peer.
   *
   * @throws RangeError for a message that is not version 1 or is malformed
   */
  reconcile(message: Uint8Array): ReconcileStep {
    const r = new Reader(message);
    const version = r.byte();
    if (version !== PROTOCOL_VERSION) {
      throw new RangeError(`expected negentropy version 0x61, got 0x${version.toString(16)}`);
    }
    const have: Uint8Array[] = [];
    const need: Uint8Array[] = [];
    const out = new Writer();
    out.push(Uint8Array.of(PROTOCOL_VERSION));
    const s = this.storage;
    let lastIn = 0;
    let prevBound = ZERO_BOUND;
    let prevIndex = 0;
    let skipping = false;

    while (!r.done) {
      const bound = this.readBound(r, lastIn);
      lastIn = bound.timestamp;
      const mode = r.varint();
      const skippedBefore = skipping;
      const lower = prevIndex;
      const upper = s.lowerBound(prevIndex, s.size, bound);
      const saved = out.lastTimestamp;
      const range = new Writer();
      range.lastTimestamp = out.lastTimestamp;
      const flushSkip = (): void => {
        if (!skipping) return;
        skipping = false;
        range.bound(prevBound);
        range.push(encodeVarint(MODE_SKIP));
      };
      if (mode === MODE_SKIP) {
        skipping = true;
      } else if (mode === MODE_FINGERPRINT) {
        const theirs = r.bytes(FINGERPRINT_BYTES);
        const ours = s.fingerprint(lower, upper);
        if (compareIds(theirs, ours) === 0 && theirs.length === ours.length) skipping = true;
        else {
          flushSkip();
          this.split(lower, upper, bound, range);
        }
      } else if (mode === MODE_IDLIST) {
        const count = r.varint();
        if (count * ID_BYTES > message.length) throw new RangeError('negentropy: id list too long');
        const theirs = new Map<string, Uint8Array>();
        for (let i = 0; i < count; i++) {
          const id = r.bytes(ID_BYTES);
          theirs.set(Buffer.from(id).toString('latin1'), id);
        }
        for (let i = lower; i < upper; i++) {
          const id = s.item(i).id;
          const k = Buffer.from(id).toString('latin1');
          if (theirs.has(k)) theirs.delete(k);
          else if (this.initiator) have.push(id);
        }
        if (this.initiator) {
          skipping = true;
          for (const id of theirs.values()) need.push(id.slice());
        } else {
          flushSkip();
          range.bound(bound);
          range.push(encodeVarint(MODE_IDLIST));
          range.push(encodeVarint(upper - lower));
          for (let i = lower; i < upper; i++) range.push(s.item(i).id);
        }
      } else {
        throw new RangeError(`negentropy: unknown range mode ${mode}`);
      }

      if (this.frameLimit > 0 && out.length + range.length > this.frameLimit - 200) {
        // Over the limit: drop this range's reply, skip what came before it, and cover this
        // range and the rest by one fingerprint, which the peer splits in the next round.
        out.lastTimestamp = saved;
        if (skippedBefore) {
          out.bound(prevBound);
          out.push(encodeVarint(MODE_SKIP));
        }
        out.bound(INFINITY_BOUND);
        out.push(encodeVarint(MODE_FINGERPRINT));
        out.push(s.fingerprint(lower, s.size));
        break;
      }
      if (range.length > 0) {
        for (const p of range.parts) out.push(p);
        out.lastTimestamp = range.lastTimestamp;
      }
      prevIndex = upper;
      prevBound = bound;
    }
    const bytes = out.bytes();
    return { output: this.initiator && bytes.length === 1 ? null : bytes, have, need };
  }

  private readBound(r: Reader, lastTimestamp: number): Bound {
    const t = r.varint();
    const timestamp = t === 0 ? Infinity : lastTimestamp + t - 1;
    const len = r.varint();
    if (len > ID_BYTES) throw new RangeError(`negentropy: id prefix of ${len} bytes`);
    return { timestamp, prefix: r.bytes(len) };
  }

  /** Writes the reply to a differing range [lower, upper): an id list or 16 fingerprints. */
  private split(lower: number, upper: number, upperBound: Bound, w: Writer): void {
    const s = this.storage;
    const count = upper - lower;
    if (count < 2 * BUCKETS) {
      w.bound(upperBound);
      w.push(encodeVarint(MODE_IDLIST));
      w.push(encodeVarint(count));
      for (let i = lower; i < upper; i++) w.push(s.item(i).id);
      return;
    }
    const per = Math.floor(count / BUCKETS);
    const extra = count % BUCKETS;
    let at = lower;
    for (let b = 0; b < BUCKETS; b++) {
      const size = per + (b < extra ? 1 : 0);
      const fp = s.fingerprint(at, at + size);
      at += size;
      w.bound(at === upper ? upperBound : separatingBound(s.item(at - 1), s.item(at)));
      w.push(encodeVarint(MODE_FINGERPRINT));
      w.push(fp);
    }
  }
}
