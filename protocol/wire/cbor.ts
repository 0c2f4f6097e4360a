/**
 * The CBOR subset certsync speaks (spec/protocol.md, "CBOR rules"), encoded deterministically
 * (RFC 8949 §4.2.1) and decoded strictly within {@link WireLimits}.
 *
 * The subset: unsigned and negative integers within ±(2^53 − 1), byte strings, UTF-8 text
 * strings, definite-length arrays, definite-length maps whose keys are integers or text,
 * and the simple values false, true and null. No floats, no tags, no indefinite lengths,
 * no undefined. A decoder accepts only the deterministic form, so every accepted frame has
 * exactly one encoding: re-encoding a decoded value gives back the same bytes.
 *
 * Why not cbor-x for this: its encoder writes integers above 2^32 as float64 (for example
 * 1700000000000 becomes `fb 4278bcfe56800000`) and its decoder bounds neither depth nor
 * item count. cbor-x serves the tests as an independent reference decoder instead.
 */

import { CertsyncError } from '../errors.ts';
import type { WireLimits } from './limits.ts';

/** A map key of the subset: an integer or a text string. */
export type CborKey = number | string;

/** A value of the subset. Maps are `Map`s, so no key can reach an object prototype. */
export type CborValue =
  | number
  | string
  | boolean
  | null
  | Uint8Array
  | readonly CborValue[]
  | ReadonlyMap<CborKey, CborValue>;

const MAJOR_UINT = 0;
const MAJOR_NINT = 1;
const MAJOR_BYTES = 2;
const MAJOR_TEXT = 3;
const MAJOR_ARRAY = 4;
const MAJOR_MAP = 5;
const MAJOR_SIMPLE = 7;

/** Growable output buffer; local to one encode call. */
class Writer {
  private buf = new Uint8Array(256);
  private len = 0;

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** A head with the shortest argument form (RFC 8949 §4.2.1, "preferred serialization"). */
  head(major: number, arg: number): void {
    const m = major << 5;
    if (arg < 24) {
      this.byte(m | arg);
    } else if (arg < 0x100) {
      this.byte(m | 24);
      this.byte(arg);
    } else if (arg < 0x10000) {
      this.byte(m | 25);
      this.byte(arg >>> 8);
      this.byte(arg & 0xff);
    } else if (arg < 0x100000000) {
      this.byte(m | 26);
      for (let s = 24; s >= 0; s -= 8) this.byte((arg >>> s) & 0xff);
    } else {
      this.byte(m | 27);
      const hi = Math.floor(arg / 0x100000000);
      const lo = arg >>> 0;
      for (let s = 24; s >= 0; s -= 8) this.byte((hi >>> s) & 0xff);
      for (let s = 24; s >= 0; s -= 8) this.byte((lo >>> s) & 0xff);
    }
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

const utf8Encoder = new TextEncoder();

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** A map entry with what its key's encoding sorts by, computed without encoding it. */
interface SortKey {
  /** 0 unsigned, 1 negative, 2 text: the major types in their bytewise order. */
  readonly rank: number;
  readonly key: CborKey;
  /** The encoded head argument of an integer key (sorts like its encoding). */
  readonly arg: number;
  readonly text: Uint8Array | null;
  readonly value: CborValue;
}

function sortKey(key: CborKey, value: CborValue): SortKey {
  if (typeof key === 'string') {
    return { rank: 2, key, arg: 0, text: utf8Encoder.encode(key), value };
  }
  if (typeof key !== 'number' || !Number.isSafeInteger(key)) {
    throw new TypeError(`expected an integer or text map key, got ${String(key)}`);
  }
  return key >= 0
    ? { rank: 0, key, arg: key, text: null, value }
    : { rank: 1, key, arg: -1 - key, text: null, value };
}

/** Bytewise order of the keys' encodings: a shorter head or text sorts first. */
function compareKeys(a: SortKey, b: SortKey): number {
  if (a.rank !== b.rank) return a.rank - b.rank;
  if (a.text === null || b.text === null) return a.arg - b.arg;
  if (a.text.length !== b.text.length) return a.text.length - b.text.length;
  return compareBytes(a.text, b.text);
}

function writeValue(w: Writer, value: CborValue): void {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new RangeError(`expected a safe integer, got ${value}`);
    }
    if (value >= 0) w.head(MAJOR_UINT, value);
    else w.head(MAJOR_NINT, -1 - value);
  } else if (typeof value === 'string') {
    const b = utf8Encoder.encode(value);
    w.head(MAJOR_TEXT, b.length);
    w.bytes(b);
  } else if (typeof value === 'boolean') {
    w.byte(value ? 0xf5 : 0xf4);
  } else if (value === null) {
    w.byte(0xf6);
  } else if (value instanceof Uint8Array) {
    w.head(MAJOR_BYTES, value.length);
    w.bytes(value);
  } else if (Array.isArray(value)) {
    w.head(MAJOR_ARRAY, value.length);
    for (const item of value as readonly CborValue[]) writeValue(w, item);
  } else if (value instanceof Map) {
    // Keys sorted by their encoded bytes (RFC 8949 §4.2.1, "core deterministic encoding").
    const entries = [...(value as ReadonlyMap<CborKey, CborValue>)].map(([k, v]) => sortKey(k, v));
    entries.sort(compareKeys);
    w.head(MAJOR_MAP, entries.length);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i] as SortKey;
      if (i > 0 && compareKeys(entries[i - 1] as SortKey, e) === 0) {
        throw new TypeError('expected distinct map keys, got a duplicate');
      }
      if (e.text !== null) {
        w.head(MAJOR_TEXT, e.text.length);
        w.bytes(e.text);
      } else {
        writeValue(w, e.key);
      }
      writeValue(w, e.value);
    }
  } else {
    throw new TypeError(
      `expected a CBOR subset value, got ${Object.prototype.toString.call(value)}`,
    );
  }
}

/**
 * Encodes `value` in the deterministic form of the subset.
 *
 * @throws RangeError for a number that is not a safe integer
 * @throws TypeError for a value outside the subset or a map with duplicate keys
 */
export function encodeCbor(value: CborValue): Uint8Array {
  const w = new Writer();
  writeValue(w, value);
  return w.result();
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** One strict decode of one frame; holds its position and counters, never shared. */
class Reader {
  private pos = 0;
  private items = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly limits: WireLimits,
  ) {}

  private fail(code: 'malformed-message' | 'limit-exceeded', what: string): never {
    throw new CertsyncError(code, `${what} at byte ${this.pos}`);
  }

  private need(n: number, what: string): void {
    if (n > this.bytes.length - this.pos) this.fail('malformed-message', `truncated ${what}`);
  }

  private u8(): number {
    this.need(1, 'item');
    return this.bytes[this.pos++] as number;
  }

  /** Reads a head's argument; rejects non-shortest forms (RFC 8949 §4.2.1). */
  private argument(info: number): number {
    if (info < 24) return info;
    let n: number;
    let min: number;
    if (info === 24) {
      n = this.u8();
      min = 24;
    } else if (info === 25) {
      this.need(2, 'head');
      n = (this.u8() << 8) | this.u8();
      min = 0x100;
    } else if (info === 26) {
      this.need(4, 'head');
      n = ((this.u8() << 24) >>> 0) + ((this.u8() << 16) | (this.u8() << 8) | this.u8());
      min = 0x10000;
    } else if (info === 27) {
      this.need(8, 'head');
      const hi = ((this.u8() << 24) >>> 0) + ((this.u8() << 16) | (this.u8() << 8) | this.u8());
      const lo = ((this.u8() << 24) >>> 0) + ((this.u8() << 16) | (this.u8() << 8) | this.u8());
      if (hi >= 0x200000) this.fail('limit-exceeded', 'integer or length beyond 2^53 − 1');
      n = hi * 0x100000000 + lo;
      min = 0x100000000;
    } else if (info === 31) {
      return this.fail('malformed-message', 'indefinite length (not allowed)');
    } else {
      return this.fail('malformed-message', `reserved additional information ${info}`);
    }
    if (n < min) this.fail('malformed-message', 'integer or length not in its shortest form');
    return n;
  }

  private count(): void {
    if (++this.items > this.limits.maxItems) {
      this.fail('limit-exceeded', `more than ${this.limits.maxItems} data items`);
    }
  }

  value(depth: number): CborValue {
    this.count();
    const initial = this.u8();
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (major === MAJOR_SIMPLE) {
      if (info === 20) return false;
      if (info === 21) return true;
      if (info === 22) return null;
      return this.fail('malformed-message', `simple value or float 0x${initial.toString(16)}`);
    }
    if (major === 6) return this.fail('malformed-message', 'tag (not allowed)');
    const arg = this.argument(info);
    switch (major) {
      case MAJOR_UINT:
        return arg;
      case MAJOR_NINT:
        return -1 - arg;
      case MAJOR_BYTES: {
        if (arg > this.limits.maxByteStringBytes) {
          this.fail('limit-exceeded', `byte string of ${arg} bytes`);
        }
        this.need(arg, 'byte string');
        return this.bytes.slice(this.pos, (this.pos += arg));
      }
      case MAJOR_TEXT: {
        if (arg > this.limits.maxTextBytes) this.fail('limit-exceeded', `text of ${arg} bytes`);
        this.need(arg, 'text string');
        try {
          return utf8Decoder.decode(this.bytes.subarray(this.pos, (this.pos += arg)));
        } catch (cause) {
          throw new CertsyncError('malformed-message', `text string not UTF-8 before ${this.pos}`, {
            cause,
          });
        }
      }
      case MAJOR_ARRAY:
        return this.array(arg, depth + 1);
      default:
        return this.map(arg, depth + 1);
    }
  }

  private container(length: number, depth: number, perEntry: number): void {
    if (depth > this.limits.maxDepth)
      this.fail('limit-exceeded', `nesting deeper than ${depth - 1}`);
    if (length > this.limits.maxContainerLength) {
      this.fail('limit-exceeded', `container of ${length} entries`);
    }
    // Every entry takes at least one byte per item: a longer claim is a truncated frame.
    this.need(length * perEntry, 'container');
  }

  private array(length: number, depth: number): CborValue[] {
    this.container(length, depth, 1);
    const out: CborValue[] = [];
    for (let i = 0; i < length; i++) out.push(this.value(depth));
    return out;
  }

  private map(length: number, depth: number): Map<CborKey, CborValue> {
    this.container(length, depth, 2);
    const out = new Map<CborKey, CborValue>();
    let previous: Uint8Array | null = null;
    for (let i = 0; i < length; i++) {
      const start = this.pos;
      this.need(1, 'map key');
      const major = (this.bytes[start] as number) >> 5;
      if (major !== MAJOR_UINT && major !== MAJOR_NINT && major !== MAJOR_TEXT) {
        this.fail('malformed-message', 'map key that is not an integer or text');
      }
      const key = this.value(depth) as CborKey;
      const encoded = this.bytes.subarray(start, this.pos);
      if (previous !== null && compareBytes(previous, encoded) >= 0) {
        this.fail('malformed-message', 'map keys duplicated or not in deterministic order');
      }
      previous = encoded;
      out.set(key, this.value(depth));
    }
    return out;
  }

  end(): void {
    if (this.pos !== this.bytes.length) this.fail('malformed-message', 'bytes after the item');
  }
}

/**
 * Decodes one whole frame holding exactly one CBOR item of the subset.
 *
 * @throws CertsyncError `frame-too-large` when the frame is over `limits.maxFrameBytes`;
 *   `limit-exceeded` for an item count, depth, length or integer over its limit;
 *   `malformed-message` for anything not well-formed, outside the subset or not in
 *   deterministic form. Nothing else is thrown for any input bytes.
 */
export function decodeCbor(bytes: Uint8Array, limits: WireLimits): CborValue {
  if (bytes.length > limits.maxFrameBytes) {
    throw new CertsyncError(
      'frame-too-large',
      `frame of ${bytes.length} bytes is over the limit of ${limits.maxFrameBytes}`,
    );
  }
  const r = new Reader(bytes, limits);
  const value = r.value(0);
  r.end();
  return value;
}
