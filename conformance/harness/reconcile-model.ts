/**
 * The runner's own model of spec/reconcile.md sections 3 to 7 and 8.2, written from the
 * spec and sharing no code with protocol/reconcile/: item hash, sketch key, key mixer, index
 * sequence, cells, incremental peeling, digest tree, estimator and estimate (syndromes are
 * in syndrome-model.ts, runs in run-schedule.ts). Cases use
 * it to say what bytes an implementation must send for a store whose versions they know;
 * conformance/harness/reconcile-model.test.ts checks it against spec/vectors/reconcile.json.
 */
import { sha256 } from '@noble/hashes/sha2.js';

/** One version of a record (spec/reconcile.md 2). */
export interface Version {
  readonly kind: 'cert' | 'crl';
  /** SHA-256 of the DER, 32 bytes. */
  readonly fingerprint: Uint8Array;
  readonly deleted: boolean;
  readonly clock: number;
  /** 16 bytes. */
  readonly origin: Uint8Array;
}

/** A 48-bit sketch key as its two 24-bit halves. */
export interface Key {
  readonly hi: number;
  readonly lo: number;
}

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The 16-byte item hash of section 3. */
export function itemHashOf(v: Version): Uint8Array {
  const input = new Uint8Array(73);
  input.set(ascii('certsync/item/1'), 0);
  input[15] = v.kind === 'cert' ? 1 : 2;
  input.set(v.fingerprint, 16);
  input[48] = v.deleted ? 1 : 0;
  const view = new DataView(input.buffer);
  view.setUint32(49, Math.floor(v.clock / 2 ** 32));
  view.setUint32(53, v.clock >>> 0);
  input.set(v.origin, 57);
  return sha256(input).slice(0, 16);
}

/** The 6-byte sketch key of section 4. */
export function keyBytesOf(v: Version, hash = itemHashOf(v)): Uint8Array {
  const out = new Uint8Array(6);
  out.set(v.fingerprint.subarray(0, 3), 0);
  out[3] = (v.deleted ? 0x80 : 0) | ((hash[0] as number) & 0x7f);
  out[4] = hash[1] as number;
  out[5] = hash[2] as number;
  return out;
}

/** Key bytes as halves. */
export function keyOf(bytes: Uint8Array, at = 0): Key {
  const b = (i: number): number => bytes[at + i] as number;
  return { hi: (b(0) << 16) | (b(1) << 8) | b(2), lo: (b(3) << 16) | (b(4) << 8) | b(5) };
}

/** A key as 6 bytes. */
export function bytesOfKey(k: Key): Uint8Array {
  return Uint8Array.of(
    k.hi >>> 16,
    (k.hi >>> 8) & 255,
    k.hi & 255,
    k.lo >>> 16,
    (k.lo >>> 8) & 255,
    k.lo & 255,
  );
}

/** A key as 12 hex digits, for sets and messages. */
export function keyHex(k: Key): string {
  return Buffer.from(bytesOfKey(k)).toString('hex');
}

/** The key mixer `mix(hi, lo)` of section 4, a 32-bit unsigned value. */
export function mix(hi: number, lo: number): number {
  let x = (Math.imul(hi, 0x9e3779b1) ^ lo) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** The key's check, 16 bits. */
export function checkOf(k: Key): number {
  return mix(k.hi, k.lo) & 0xffff;
}

/** The cell indices of a key below `limit`, in increasing order (section 8.2). */
export function indicesBelow(k: Key, limit: number): number[] {
  const out: number[] = [];
  if (limit <= 0) return out;
  out.push(0);
  let state = mix(k.hi, k.lo) || 1;
  let i = 0;
  for (;;) {
    state = (state ^ (state << 13)) >>> 0;
    state = (state ^ (state >>> 17)) >>> 0;
    state = (state ^ (state << 5)) >>> 0;
    const u = state / 2 ** 32;
    const gap = Math.max(1, Math.ceil((i + 1.5) * (1 / Math.sqrt(u) - 1)));
    i = Math.min(2 ** 31 - 1, i + gap);
    if (i >= limit) return out;
    out.push(i);
    if (i === 2 ** 31 - 1) return out;
  }
}

/** Cells [0, m) of a set of keys, 8 bytes each: hi (3), lo (3), check (2). */
export function cellsOf(keys: readonly Key[], m: number): Uint8Array {
  const hi = new Int32Array(m);
  const lo = new Int32Array(m);
  const chk = new Int32Array(m);
  for (const k of keys) {
    const c = checkOf(k);
    for (const i of indicesBelow(k, m)) {
      hi[i] = (hi[i] as number) ^ k.hi;
      lo[i] = (lo[i] as number) ^ k.lo;
      chk[i] = (chk[i] as number) ^ c;
    }
  }
  const out = new Uint8Array(8 * m);
  for (let i = 0; i < m; i++) {
    const h = hi[i] as number;
    const l = lo[i] as number;
    const c = chk[i] as number;
    out.set(
      [h >>> 16, (h >>> 8) & 255, h & 255, l >>> 16, (l >>> 8) & 255, l & 255, c >>> 8, c & 255],
      8 * i,
    );
  }
  return out;
}

/** The cell-wise XOR of two equally long cell byte strings. */
export function xorCells(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length !== b.length)
    throw new RangeError(`expected equal lengths, got ${a.length} and ${b.length}`);
  return a.map((x, i) => x ^ (b[i] as number));
}

/**
 * Difference cells peeled as they grow (section 8.2, "Peeling"): {@link CellPeeler.extend}
 * appends cells [M0, M) and peels in the order the spec fixes, so that the runner reaches the
 * outcome an implementation must reach at every checkpoint.
 */
export class CellPeeler {
  private hi: number[] = [];
  private lo: number[] = [];
  private chk: number[] = [];
  private readonly found: Key[] = [];
  private stopped = false;

  /** Cells so far (M). */
  get size(): number {
    return this.hi.length;
  }

  /** Every cell is zero and peeling never stopped: the keys are the whole difference. */
  get decoded(): boolean {
    if (this.stopped) return false;
    for (let i = 0; i < this.size; i++) if (this.nonZero(i) || this.chk[i] !== 0) return false;
    return true;
  }

  /** The keys recovered so far, in the order they peeled. */
  get keys(): readonly Key[] {
    return this.found;
  }

  /** Appends difference cells (8 bytes each) and peels them (steps 0 to 4). */
  extend(cells: Uint8Array): void {
    const from = this.size;
    const to = from + cells.length / 8;
    for (let i = 0; i < cells.length / 8; i++) {
      const k = keyOf(cells, 8 * i);
      this.hi.push(k.hi);
      this.lo.push(k.lo);
      this.chk.push(((cells[8 * i + 6] as number) << 8) | (cells[8 * i + 7] as number));
    }
    for (const k of this.found) {
      for (const t of indicesBelow(k, to)) if (t >= from) this.toggle(t, k);
    }
    if (this.stopped) return;
    const queue: number[] = [];
    for (let i = from; i < to; i++) queue.push(i);
    for (let q = 0; q < queue.length; q++) {
      const i = queue[q] as number;
      if (!this.nonZero(i) && this.chk[i] === 0) continue;
      const k = { hi: this.hi[i] as number, lo: this.lo[i] as number };
      if (checkOf(k) !== this.chk[i]) continue;
      const seq = indicesBelow(k, to);
      if (!seq.includes(i)) continue;
      if (this.found.length >= 2 * to + 16) {
        this.stopped = true;
        return;
      }
      this.found.push(k);
      for (const t of seq) {
        this.toggle(t, k);
        if (t !== i && this.nonZero(t)) queue.push(t);
      }
    }
  }

  private nonZero(i: number): boolean {
    return this.hi[i] !== 0 || this.lo[i] !== 0;
  }

  private toggle(i: number, k: Key): void {
    this.hi[i] = (this.hi[i] as number) ^ k.hi;
    this.lo[i] = (this.lo[i] as number) ^ k.lo;
    this.chk[i] = (this.chk[i] as number) ^ checkOf(k);
  }
}

/** Peels difference cells [0, M) in one step: the keys, when the prefix decoded. */
export function peel(cells: Uint8Array): { decoded: boolean; keys: Key[] } {
  const p = new CellPeeler();
  p.extend(cells);
  return { decoded: p.decoded, keys: [...p.keys] };
}

/** The 42-byte estimator of section 6. */
export function estimatorOf(hashes: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(42);
  for (const h of hashes) {
    const u = new DataView(h.buffer, h.byteOffset, 16).getUint32(3);
    const s = Math.min(13, Math.clz32(u));
    const b = ((h[7] as number) * 256 + (h[8] as number)) % 24;
    const pos = 24 * s + b;
    out[pos >>> 3] = (out[pos >>> 3] as number) ^ (0x80 >>> (pos & 7));
  }
  return out;
}

const INVERSE = [0, 1, 2, 3, 5, 6, 8, 11, 13, 17];

/** The estimate of section 6 from two estimators. */
export function estimate(a: Uint8Array, b: Uint8Array): number {
  const z: number[] = [];
  for (let s = 0; s < 14; s++) {
    let ones = 0;
    for (let bit = 0; bit < 24; bit++) {
      const pos = 24 * s + bit;
      const x = ((a[pos >>> 3] as number) ^ (b[pos >>> 3] as number)) & (0x80 >>> (pos & 7));
      if (x) ones++;
    }
    z.push(ones);
  }
  if ((z[13] as number) > 9) return 2 ** 14 * 12;
  let j = 13;
  while (j > 0 && (z[j - 1] as number) <= 9) j--;
  let sum = 0;
  for (let t = j; t <= 13; t++) sum += INVERSE[z[t] as number] as number;
  return 2 ** j * sum;
}

/** A store digest (section 7) and its parts. */
export interface Digest {
  readonly root: Uint8Array;
  readonly count: number;
  readonly estimator: Uint8Array;
  /** The 63 bytes of hello.summary.digest. */
  readonly bytes: Uint8Array;
}

/** The digest of a set of versions (sections 5 to 7). */
export function digestOf(versions: readonly Version[]): Digest {
  const hashes = versions.map((v) => itemHashOf(v));
  const leaves = new Uint8Array(256 * 16);
  for (const h of hashes) {
    const at = 16 * (h[15] as number);
    for (let i = 0; i < 16; i++) leaves[at + i] = (leaves[at + i] as number) ^ (h[i] as number);
  }
  const rootInput = new Uint8Array(15 + 4 + 256);
  rootInput.set(ascii('certsync/root/1'), 0);
  new DataView(rootInput.buffer).setUint32(15, versions.length);
  for (let k = 0; k < 16; k++) {
    const nodeInput = new Uint8Array(15 + 256);
    nodeInput.set(ascii('certsync/node/1'), 0);
    nodeInput.set(leaves.subarray(256 * k, 256 * (k + 1)), 15);
    rootInput.set(sha256(nodeInput).subarray(0, 16), 19 + 16 * k);
  }
  const root = sha256(rootInput).slice(0, 16);
  const estimator = estimatorOf(hashes);
  const bytes = new Uint8Array(63);
  bytes[0] = 1;
  bytes.set(root, 1);
  new DataView(bytes.buffer).setUint32(17, versions.length);
  bytes.set(estimator, 21);
  return { root, count: versions.length, estimator, bytes };
}

/** Reads 63 digest bytes; null when they are not a format-1 digest. */
export function parseDigest(bytes: Uint8Array): Omit<Digest, 'bytes'> | null {
  if (bytes.length !== 63 || bytes[0] !== 1) return null;
  const count = new DataView(bytes.buffer, bytes.byteOffset, 63).getUint32(17);
  return { root: bytes.slice(1, 17), count, estimator: bytes.slice(21, 63) };
}

/** -1, 0 or 1 as unsigned bytes compare. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return (a[i] as number) < (b[i] as number) ? -1 : 1;
  }
  return a.length - b.length;
}
