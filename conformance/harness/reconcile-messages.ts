/**
 * Reconciliation messages as the runner writes and reads them (spec/reconcile.md 9.1): the
 * frames it sends and the shape checks of what the implementation sends.
 */
import assert from 'node:assert/strict';
import { encodeCbor, type CborKey, type CborValue } from '../../protocol/wire/cbor.ts';
import type { Version } from './reconcile-model.ts';

/** A record as the runner holds it: a version, and for a live one its DER and metadata. */
export interface Held {
  readonly v: Version;
  readonly der?: Uint8Array;
  readonly label?: string | null;
  readonly pinned?: boolean;
}

/** Reconciliation type codes (spec/reconcile.md 9.1). */
export const CODES = { cells: 16, keys: 17, entry: 18, want: 19, done: 20, syndromes: 21 } as const;

/** A reconciliation message, as sent or received. */
export type RMsg =
  | { readonly type: 'cells'; readonly start: number; readonly cells: Uint8Array }
  | { readonly type: 'syndromes'; readonly start: number; readonly syndromes: Uint8Array }
  | {
      readonly type: 'keys';
      readonly keys: Uint8Array;
      readonly wide: boolean;
      readonly last: boolean;
    }
  | {
      readonly type: 'entry';
      readonly v: Version;
      readonly label?: string;
      readonly pinned?: boolean;
      readonly der?: Uint8Array;
    }
  | { readonly type: 'want'; readonly records: readonly { kind: 1 | 2; fingerprint: Uint8Array }[] }
  | { readonly type: 'done' };

/** The frame of a reconciliation message (envelope of spec/protocol.md 3, version 1). */
export function frameOfR(m: RMsg): Uint8Array {
  const p = new Map<CborKey, CborValue>();
  switch (m.type) {
    case 'cells':
      p.set(0, m.start).set(1, m.cells);
      break;
    case 'syndromes':
      p.set(0, m.start).set(1, m.syndromes);
      break;
    case 'keys':
      p.set(0, m.keys).set(1, m.wide).set(2, m.last);
      break;
    case 'entry':
      p.set(0, m.v.kind === 'cert' ? 1 : 2)
        .set(1, m.v.fingerprint)
        .set(2, m.v.deleted)
        .set(3, m.v.clock)
        .set(4, m.v.origin);
      if (m.label !== undefined) p.set(5, m.label);
      if (m.pinned !== undefined) p.set(6, m.pinned);
      if (m.der !== undefined) p.set(7, m.der);
      break;
    case 'want':
      p.set(
        0,
        m.records.map((r) => [r.kind, r.fingerprint]),
      );
      break;
    case 'done':
      break;
  }
  return encodeCbor([1, CODES[m.type], p]);
}

/**
 * Reads a reconciliation message the implementation sent, asserting its shape.
 *
 * @throws AssertionError when the payload breaks spec/reconcile.md 9.1
 */
export function parseR(code: number, p: ReadonlyMap<CborKey, CborValue>): RMsg {
  const bytes = (k: number): Uint8Array => {
    const v = p.get(k);
    assert.ok(v instanceof Uint8Array, `reconcile type ${code}: field ${k} is a byte string`);
    return v;
  };
  const bool = (k: number): boolean => {
    const v = p.get(k);
    assert.equal(typeof v, 'boolean', `reconcile type ${code}: field ${k} is a boolean`);
    return v as boolean;
  };
  const start = (): number => {
    const v = p.get(0);
    assert.ok(Number.isSafeInteger(v) && (v as number) >= 0, `reconcile type ${code}: a start`);
    return v as number;
  };
  switch (code) {
    case CODES.cells: {
      const cells = bytes(1);
      assert.ok(cells.length >= 8 && cells.length % 8 === 0, 'cells are 8 bytes each');
      return { type: 'cells', start: start(), cells };
    }
    case CODES.syndromes: {
      const syndromes = bytes(1);
      assert.ok(syndromes.length >= 6 && syndromes.length % 6 === 0, 'syndromes are 6 bytes each');
      return { type: 'syndromes', start: start(), syndromes };
    }
    case CODES.keys:
      return { type: 'keys', keys: bytes(0), wide: bool(1), last: bool(2) };
    case CODES.entry: {
      const kind = p.get(0);
      assert.ok(kind === 1 || kind === 2, 'an entry kind is 1 or 2');
      const deleted = bool(2);
      const v: Version = {
        kind: kind === 1 ? 'cert' : 'crl',
        fingerprint: bytes(1),
        deleted,
        clock: p.get(3) as number,
        origin: bytes(4),
      };
      if (deleted) {
        assert.ok(!p.has(5) && !p.has(6) && !p.has(7), 'a deletion carries none of keys 5-7');
        return { type: 'entry', v };
      }
      const label = p.get(5);
      return {
        type: 'entry',
        v,
        ...(typeof label === 'string' ? { label } : {}),
        pinned: bool(6),
        ...(p.has(7) ? { der: bytes(7) } : {}),
      };
    }
    case CODES.want: {
      const list = p.get(0);
      assert.ok(Array.isArray(list), 'want holds a list of records');
      const records = (list as [1 | 2, Uint8Array][]).map(([kind, fingerprint]) => ({
        kind,
        fingerprint,
      }));
      return { type: 'want', records };
    }
    case CODES.done:
      return { type: 'done' };
    default:
      return assert.fail(`the implementation sent reconciliation type ${code}`);
  }
}

/** The entry message of a held record; live ones carry their DER when `withDer`. */
export function entryOf(h: Held, withDer: boolean): RMsg {
  if (h.v.deleted) return { type: 'entry', v: h.v };
  return {
    type: 'entry',
    v: h.v,
    ...(h.label ? { label: h.label } : {}),
    pinned: h.pinned ?? false,
    ...(withDer && h.der ? { der: h.der } : {}),
  };
}
