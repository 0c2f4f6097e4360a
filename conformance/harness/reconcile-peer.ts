/**
 * The runner's side of a reconcile (spec/reconcile.md 9), on the runner's own model
 * (reconcile-model.ts): it answers the implementation's sketch cells with its own cells of
 * the same range, or its key list with its own; peels; streams the entries only it holds;
 * answers `want`; and records every reconciliation message the implementation sent, so
 * that cases can judge those bytes against the model.
 *
 * It follows the implementation's batches instead of computing a batch schedule of its
 * own: the procedure is symmetric, so a correct peer sends exactly the ranges the
 * implementation sends. That keeps the cases valid whatever schedule spec/reconcile.md 9.2
 * fixes; the schedule itself is not judged here.
 */
import assert from 'node:assert/strict';
import { sha256 } from '@noble/hashes/sha2.js';
import { encodeCbor, type CborKey, type CborValue } from '../../protocol/wire/cbor.ts';
import {
  cellsOf,
  compareBytes,
  digestOf,
  itemHashOf,
  keyBytesOf,
  keyHex,
  keyOf,
  parseDigest,
  peel,
  xorCells,
  type Key,
  type Version,
} from './reconcile-model.ts';
import type { WirePeer } from './wire-peer.ts';

/** Reconciliation type codes (spec/reconcile.md 9.1). */
export const CODES = { cells: 16, keys: 17, entry: 18, want: 19, done: 20 } as const;

/** A record as the runner holds it: a version, and for a live one its DER and metadata. */
export interface Held {
  readonly v: Version;
  readonly der?: Uint8Array;
  readonly label?: string | null;
  readonly pinned?: boolean;
}

/** A reconciliation message, as sent or received. */
export type RMsg =
  | { readonly type: 'cells'; readonly start: number; readonly cells: Uint8Array }
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
  switch (code) {
    case CODES.cells: {
      const cells = bytes(1);
      assert.ok(cells.length >= 8 && cells.length % 8 === 0, 'cells are 8 bytes each');
      return { type: 'cells', start: p.get(0) as number, cells };
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

/** The key of a held record. */
export const keyOfHeld = (h: Held): Key => keyOf(keyBytesOf(h.v));

/** What a reconcile between the runner and the implementation carried. */
export interface Transcript {
  readonly mode: 'equal' | 'sketch' | 'keys' | 'wide';
  /** Every reconciliation message the implementation sent, in order. */
  readonly received: RMsg[];
}

/** How the runner plays its side. */
export interface ReconcileOptions {
  /** Send want for metadata-only entries of records the runner holds no live DER of. */
  readonly wantMissing?: boolean;
  /** Go on until this many `want` messages of the implementation were answered. */
  readonly expectWants?: number;
  /** The digest the runner announced, when it is not the one of `own` (a forced collision). */
  readonly announced?: Uint8Array;
  /**
   * Send the key list first, before the implementation said anything: for stores so small
   * (8 records or fewer in all) that every schedule lists keys.
   */
  readonly keysFirst?: boolean;
}

function keyListMessages(parts: readonly Uint8Array[], wide: boolean): RMsg[] {
  const size = wide ? 16 : 6;
  const per = wide ? 224 : 600;
  const all = new Uint8Array(parts.length * size);
  parts.forEach((p, i) => all.set(p, i * size));
  const out: RMsg[] = [];
  for (let s = 0; ; s += per * size) {
    const e = Math.min(all.length, s + per * size);
    out.push({ type: 'keys', keys: all.slice(s, e), wide, last: e === all.length });
    if (e === all.length) return out;
  }
}

/** Splits what the implementation listed into 6- or 16-byte hex names. */
function listed(parts: readonly Uint8Array[], size: number): string[] {
  const all = Buffer.concat(parts);
  const out: string[] = [];
  for (let at = 0; at < all.length; at += size)
    out.push(all.subarray(at, at + size).toString('hex'));
  return out;
}

/**
 * Runs the runner's half of a reconcile with the implementation, whose hello carried
 * `implDigest`, until both sides finished (spec/reconcile.md 9.3, "finished").
 *
 * @throws AssertionError when the implementation breaks a rule on the way
 */
export async function reconcileWith(
  peer: WirePeer,
  own: readonly Held[],
  implDigest: Uint8Array,
  o: ReconcileOptions = {},
): Promise<Transcript> {
  const theirs = parseDigest(implDigest);
  assert.ok(theirs, 'the implementation sends a 63-byte format-1 digest in hello');
  const real = digestOf(own.map((h) => h.v));
  const mine = o.announced ? (parseDigest(o.announced) ?? real) : real;
  const received: RMsg[] = [];
  if (compareBytes(mine.root, theirs.root) === 0) return { mode: 'equal', received };
  const send = async (ms: RMsg[]): Promise<void> => {
    for (const m of ms) await peer.send(frameOfR(m));
  };
  const ownKeys = own.map(keyOfHeld);
  const st = {
    phase: 'start' as 'start' | 'sketch' | 'keys' | 'wide' | 'streaming',
    used: new Set<'sketch' | 'keys' | 'wide'>(),
    dones: 0,
    wants: 0,
    answered: 0,
  };
  let theirCells = new Uint8Array(0);
  const theirList: Uint8Array[] = [];

  const stream = async (localOnly: readonly Held[], remoteTags: ReadonlySet<number>) => {
    const dels = localOnly.filter((h) => h.v.deleted);
    const live = localOnly.filter((h) => !h.v.deleted);
    const meta = live.filter((h) => remoteTags.has(keyOfHeld(h).hi));
    const full = live.filter((h) => !remoteTags.has(keyOfHeld(h).hi));
    await send([
      ...dels.map((h) => entryOf(h, false)),
      ...meta.map((h) => entryOf(h, false)),
      ...full.map((h) => entryOf(h, true)),
      { type: 'done' },
    ]);
    st.phase = 'streaming';
  };
  const listKeys = async (wide: boolean) => {
    st.phase = wide ? 'wide' : 'keys';
    st.used.add(st.phase);
    const parts = own.map((h) => (wide ? itemHashOf(h.v) : keyBytesOf(h.v)));
    await send(keyListMessages(parts, wide));
  };
  /** The decoded difference: stream what only the runner holds, or go wide when empty. */
  const split = async (diff: readonly Key[]) => {
    if (diff.length === 0) return listKeys(true);
    const names = new Set(diff.map(keyHex));
    const ownNames = new Set(ownKeys.map(keyHex));
    const remote = diff.filter((k) => !ownNames.has(keyHex(k)));
    const localOnly = own.filter((h) => names.has(keyHex(keyOfHeld(h))));
    return stream(localOnly, new Set(remote.map((k) => k.hi)));
  };
  /** The implementation went on from its sketch: it decoded; peel the same cells. */
  const afterSketch = async () => {
    const peeled = peel(xorCells(cellsOf(ownKeys, theirCells.length / 8), theirCells));
    assert.ok(peeled.decoded, 'the implementation went on from cells that do not decode');
    await split(peeled.keys);
  };

  if (o.keysFirst) await listKeys(false);
  while (
    !(st.phase === 'streaming' && st.dones >= 1 + st.wants) ||
    st.answered < (o.expectWants ?? 0)
  ) {
    const f = await peer.message(10_000);
    if (f.kind === 'message') {
      const m2 = f.message;
      const what = m2.type === 'error' ? `error ${m2.code}: ${m2.message}` : m2.type;
      assert.fail(`expected reconciliation messages, got ${what}`);
    }
    assert.ok(f.kind === 'reconcile', `expected a reconciliation message, got ${f.kind}`);
    const r = parseR(f.code, f.payload);
    received.push(r);
    if (r.type === 'cells') {
      assert.ok(st.phase === 'start' || st.phase === 'sketch', 'cells come only while sketching');
      st.phase = 'sketch';
      st.used.add('sketch');
      const at = theirCells.length / 8;
      assert.equal(r.start, at, 'cells start where the last ones ended');
      theirCells = Buffer.concat([theirCells, r.cells]);
      const end = theirCells.length / 8;
      await send([{ type: 'cells', start: at, cells: cellsOf(ownKeys, end).slice(8 * at) }]);
      continue;
    }
    if (r.type === 'keys') {
      // A key list at the start, or at the sketch's end; a wide list after a decode.
      if (!r.wide && (st.phase === 'start' || st.phase === 'sketch')) await listKeys(false);
      if (r.wide && st.phase === 'sketch') await afterSketch();
      assert.equal(st.phase, r.wide ? 'wide' : 'keys', `a ${r.wide ? 'wide ' : ''}key list now`);
      theirList.push(r.keys);
      if (!r.last) continue;
      const names = listed(theirList.splice(0), r.wide ? 16 : 6);
      if (r.wide) {
        const theirHashes = new Set(names);
        const lacked = own.filter((h) => !theirHashes.has(hexOfBytes(itemHashOf(h.v))));
        await stream(lacked, new Set());
        continue;
      }
      const count = new Map<string, number>();
      for (const k of ownKeys) count.set(keyHex(k), (count.get(keyHex(k)) ?? 0) + 1);
      for (const k of names) count.set(k, (count.get(k) ?? 0) - 1);
      const diff = [...count].filter(([, c]) => c !== 0).map(([k]) => keyOf(Buffer.from(k, 'hex')));
      await split(diff);
      continue;
    }
    if (st.phase === 'sketch') await afterSketch();
    assert.equal(st.phase, 'streaming', 'entries come once the difference is known');
    if (r.type === 'entry') {
      if (r.der) {
        assert.deepEqual(sha256(r.der), r.v.fingerprint, 'an entry DER hashes to its fingerprint');
      }
      const held = own.find((h) => compareBytes(h.v.fingerprint, r.v.fingerprint) === 0);
      if (o.wantMissing && !r.v.deleted && !r.der && !(held && !held.v.deleted)) {
        st.wants += 1;
        const kind = r.v.kind === 'cert' ? 1 : 2;
        await send([{ type: 'want', records: [{ kind, fingerprint: r.v.fingerprint }] }]);
      }
    } else if (r.type === 'want') {
      const out: RMsg[] = [];
      for (const w of r.records) {
        const h = own.find((x) => compareBytes(x.v.fingerprint, w.fingerprint) === 0);
        if (h) out.push(entryOf(h, true));
      }
      await send([...out, { type: 'done' }]);
      st.answered += 1;
    } else {
      st.dones += 1;
    }
  }
  const mode = st.used.has('wide') ? 'wide' : st.used.has('keys') ? 'keys' : 'sketch';
  return { mode, received };
}

const hexOfBytes = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The entry message of a held record; live ones carry their DER when `withDer`. */
function entryOf(h: Held, withDer: boolean): RMsg {
  if (h.v.deleted) return { type: 'entry', v: h.v };
  return {
    type: 'entry',
    v: h.v,
    ...(h.label ? { label: h.label } : {}),
    pinned: h.pinned ?? false,
    ...(withDer && h.der ? { der: h.der } : {}),
  };
}
