/**
 * The payloads of reconciliation messages (spec/reconcile.md, "Messages"), as plain values
 * of numbers, byte strings, booleans and arrays under small integer map keys, the form the
 * wire codec (protocol/wire/cbor.ts) encodes. Type codes are in the range the message
 * catalog reserves for reconciliation (16–31); the store digest rides in hello's summary.
 *
 * Decoders check every field and throw only {@link CertsyncError} (`malformed-message`,
 * `limit-exceeded`), whatever the map holds.
 */

import { CertsyncError } from '../errors.ts';
import type { CborKey, CborValue } from '../wire/cbor.ts';
import type { Entry, EntryKind } from '../merge/entry.ts';
import { ESTIMATOR_BYTES } from './estimator.ts';
import { CELL_BYTES } from './riblt.ts';
import { MAX_CAPACITY, SYNDROME_BYTES } from './syndrome-sketch.ts';

/** Type codes of reconciliation messages. */
export const RECONCILE_CODES = Object.freeze({
  cells: 16,
  keys: 17,
  entry: 18,
  want: 19,
  done: 20,
  syndromes: 21,
});

/** Bytes of one key in a key list: 6 for sketch keys, 16 for item hashes ("wide"). */
export const KEY_BYTES = 6;
export const WIDE_KEY_BYTES = 16;
/** Most records named in one want message. */
export const MAX_WANTS = 256;
/** Longest label, in UTF-8 bytes. */
export const MAX_LABEL_BYTES = 1_024;
/** Longest DER, in bytes. */
export const MAX_DER_BYTES = 196_000;

/** Sketch cells [start, start + cells.length / 8) of the sender's set. */
export interface CellsMessage {
  readonly type: 'cells';
  readonly start: number;
  readonly cells: Uint8Array;
}

/** Syndromes [start, start + syndromes.length / 6) of the sender's set. */
export interface SyndromesMessage {
  readonly type: 'syndromes';
  readonly start: number;
  readonly syndromes: Uint8Array;
}

/** A run of the sender's keys (6 bytes each) or item hashes (16 bytes each, `wide`). */
export interface KeysMessage {
  readonly type: 'keys';
  readonly keys: Uint8Array;
  readonly wide: boolean;
  /** True on the run that ends the list. */
  readonly last: boolean;
}

/** One entry the receiver lacks: full, metadata-only (der null on a live entry) or deleted. */
export interface EntryMessage {
  readonly type: 'entry';
  readonly entry: Entry;
}

/** Records whose metadata arrived without DER that the sender needs in full. */
export interface WantMessage {
  readonly type: 'want';
  readonly records: readonly { readonly kind: EntryKind; readonly fingerprint: Uint8Array }[];
}

/** The sender has sent everything it owes: its own entries, or the answer to one want. */
export interface DoneMessage {
  readonly type: 'done';
}

/** Any reconciliation message. */
export type ReconcileMessage =
  CellsMessage | SyndromesMessage | KeysMessage | EntryMessage | WantMessage | DoneMessage;

type Payload = ReadonlyMap<CborKey, CborValue>;

function bad(what: string): never {
  throw new CertsyncError('malformed-message', `reconciliation message: ${what}`);
}

function field(p: Payload, key: number, name: string): CborValue {
  const v = p.get(key);
  if (v === undefined) bad(`missing field ${key} (${name})`);
  return v;
}

function uintField(p: Payload, key: number, name: string): number {
  const v = field(p, key, name);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    bad(`field ${key} (${name}) is not an unsigned integer`);
  }
  return v;
}

function bytesField(p: Payload, key: number, name: string, min: number, max: number): Uint8Array {
  const v = field(p, key, name);
  if (!(v instanceof Uint8Array)) bad(`field ${key} (${name}) is not a byte string`);
  if (v.length < min || v.length > max) {
    throw new CertsyncError(
      v.length > max ? 'limit-exceeded' : 'malformed-message',
      `reconciliation message: field ${key} (${name}) has ${v.length} bytes, ` +
        `expected ${min === max ? min : `${min}..${max}`}`,
    );
  }
  return v;
}

function boolField(p: Payload, key: number, name: string): boolean {
  const v = field(p, key, name);
  if (typeof v !== 'boolean') bad(`field ${key} (${name}) is not a boolean`);
  return v;
}

function kindOf(code: CborValue): EntryKind {
  if (code === 1) return 'cert';
  if (code === 2) return 'crl';
  return bad(`kind ${String(code)} is not 1 (certificate) or 2 (CRL)`);
}

function kindCodeOf(kind: EntryKind): number {
  return kind === 'cert' ? 1 : 2;
}

/** The type code and payload of a reconciliation message, ready for the wire codec. */
export function encodeReconcileMessage(msg: ReconcileMessage): {
  code: number;
  payload: Map<CborKey, CborValue>;
} {
  const p = new Map<CborKey, CborValue>();
  switch (msg.type) {
    case 'cells':
      p.set(0, msg.start);
      p.set(1, msg.cells);
      break;
    case 'syndromes':
      p.set(0, msg.start);
      p.set(1, msg.syndromes);
      break;
    case 'keys':
      p.set(0, msg.keys);
      p.set(1, msg.wide);
      p.set(2, msg.last);
      break;
    case 'entry': {
      const e = msg.entry;
      p.set(0, kindCodeOf(e.kind));
      p.set(1, e.fingerprint);
      p.set(2, e.deleted);
      p.set(3, e.clock);
      p.set(4, e.origin);
      if (!e.deleted) {
        if (e.meta.label !== null) p.set(5, e.meta.label);
        p.set(6, e.meta.pinned);
        if (e.der !== null) p.set(7, e.der);
      }
      break;
    }
    case 'want':
      p.set(
        0,
        msg.records.map((r) => [kindCodeOf(r.kind), r.fingerprint]),
      );
      break;
    case 'done':
      break;
  }
  return { code: RECONCILE_CODES[msg.type], payload: p };
}

/**
 * Reads a reconciliation message from its type code and payload map.
 *
 * @throws CertsyncError `unknown-message` for a code of the range this version does not
 *   know; `malformed-message` or `limit-exceeded` for a payload out of shape
 */
export function decodeReconcileMessage(code: number, p: Payload): ReconcileMessage {
  switch (code) {
    case RECONCILE_CODES.cells: {
      const start = uintField(p, 0, 'start');
      const cells = bytesField(p, 1, 'cells', CELL_BYTES, 0x100000);
      if (cells.length % CELL_BYTES !== 0)
        bad(`cells length ${cells.length} is not a multiple of 8`);
      return { type: 'cells', start, cells };
    }
    case RECONCILE_CODES.syndromes: {
      const start = uintField(p, 0, 'start');
      const max = MAX_CAPACITY * SYNDROME_BYTES;
      const syndromes = bytesField(p, 1, 'syndromes', SYNDROME_BYTES, max);
      if (syndromes.length % SYNDROME_BYTES !== 0)
        bad(`syndromes length ${syndromes.length} is not a multiple of 6`);
      return { type: 'syndromes', start, syndromes };
    }
    case RECONCILE_CODES.keys: {
      const wide = boolField(p, 1, 'wide');
      const keys = bytesField(p, 0, 'keys', 0, 0x100000);
      const size = wide ? WIDE_KEY_BYTES : KEY_BYTES;
      if (keys.length % size !== 0)
        bad(`key list length ${keys.length} is not a multiple of ${size}`);
      return { type: 'keys', keys, wide, last: boolField(p, 2, 'last') };
    }
    case RECONCILE_CODES.entry: {
      const kind = kindOf(field(p, 0, 'kind'));
      const fingerprint = bytesField(p, 1, 'fingerprint', 32, 32);
      const deleted = boolField(p, 2, 'deleted');
      const clock = uintField(p, 3, 'clock');
      const origin = bytesField(p, 4, 'origin', 16, 16);
      if (deleted) {
        if (p.has(5) || p.has(6) || p.has(7)) bad('a deletion carries label, pinned or DER');
        return {
          type: 'entry',
          entry: { kind, fingerprint, deleted, clock, origin, der: null, meta: DELETED_META },
        };
      }
      const labelValue = p.get(5);
      if (labelValue !== undefined && typeof labelValue !== 'string') bad('label is not text');
      const label = labelValue ?? null;
      if (label !== null && new TextEncoder().encode(label).length > MAX_LABEL_BYTES) {
        throw new CertsyncError('limit-exceeded', 'reconciliation message: label is too long');
      }
      const pinned = boolField(p, 6, 'pinned');
      const der = p.has(7) ? bytesField(p, 7, 'der', 1, MAX_DER_BYTES) : null;
      return {
        type: 'entry',
        entry: { kind, fingerprint, deleted, clock, origin, der, meta: { label, pinned } },
      };
    }
    case RECONCILE_CODES.want: {
      const list = field(p, 0, 'records');
      if (!Array.isArray(list)) bad('want records is not an array');
      if (list.length > MAX_WANTS) {
        throw new CertsyncError(
          'limit-exceeded',
          `want names ${list.length} records, over ${MAX_WANTS}`,
        );
      }
      const records = (list as readonly CborValue[]).map((r) => {
        if (!Array.isArray(r) || r.length !== 2) bad('want record is not [kind, fingerprint]');
        const [k, fp] = r as readonly CborValue[];
        if (!(fp instanceof Uint8Array) || fp.length !== 32)
          bad('want fingerprint is not 32 bytes');
        return { kind: kindOf(k as CborValue), fingerprint: fp };
      });
      return { type: 'want', records };
    }
    case RECONCILE_CODES.done:
      return { type: 'done' };
    default:
      throw new CertsyncError(
        'unknown-message',
        `reconciliation message type ${code} is not known`,
      );
  }
}

const DELETED_META = Object.freeze({ label: null, pinned: false });

/** What a store says about its whole set in hello (spec/reconcile.md, "Store digest"). */
export interface StoreDigest {
  /** The 16-byte root of the digest tree. */
  readonly root: Uint8Array;
  /** Entries the store holds, live and deleted. */
  readonly count: number;
  /** The difference estimator, ESTIMATOR_BYTES long. */
  readonly estimator: Uint8Array;
}

/**
 * Most records a store may announce. It bounds what a peer can make a reconcile hold: key
 * lists (6 bytes a record) and sketch batches (which stop once a key list is cheaper).
 */
export const MAX_STORE_RECORDS = 1_000_000;

/** Format byte that starts the digest bytes of this version. */
export const DIGEST_FORMAT = 1;
/** Length of the digest bytes: format (1), root (16), count (4, big-endian), estimator. */
export const DIGEST_BYTES = 1 + 16 + 4 + ESTIMATOR_BYTES;

/**
 * The bytes of hello's `summary.digest`.
 *
 * @throws RangeError when the root, count or estimator is out of shape
 */
export function encodeStoreDigest(d: StoreDigest): Uint8Array {
  if (d.root.length !== 16) throw new RangeError(`expected a 16-byte root, got ${d.root.length}`);
  if (!Number.isInteger(d.count) || d.count < 0 || d.count > 0xffffffff) {
    throw new RangeError(`expected a count in 0..2^32-1, got ${d.count}`);
  }
  if (d.estimator.length !== ESTIMATOR_BYTES) {
    throw new RangeError(`expected a ${ESTIMATOR_BYTES}-byte estimator, got ${d.estimator.length}`);
  }
  const out = new Uint8Array(DIGEST_BYTES);
  out[0] = DIGEST_FORMAT;
  out.set(d.root, 1);
  new DataView(out.buffer).setUint32(17, d.count);
  out.set(d.estimator, 21);
  return out;
}

/**
 * Reads hello's `summary.digest`.
 *
 * @throws CertsyncError `malformed-message` when the length or format byte is wrong;
 *   `limit-exceeded` when it announces more than {@link MAX_STORE_RECORDS} records
 */
export function decodeStoreDigest(bytes: Uint8Array): StoreDigest {
  if (bytes.length !== DIGEST_BYTES || bytes[0] !== DIGEST_FORMAT) {
    bad(
      `store digest of ${bytes.length} bytes is not format ${DIGEST_FORMAT} (${DIGEST_BYTES} bytes)`,
    );
  }
  const count = new DataView(bytes.buffer, bytes.byteOffset).getUint32(17);
  if (count > MAX_STORE_RECORDS) {
    throw new CertsyncError(
      'limit-exceeded',
      `store digest announces ${count} records, over the limit of ${MAX_STORE_RECORDS}`,
    );
  }
  return { root: bytes.slice(1, 17), count, estimator: bytes.slice(21) };
}
