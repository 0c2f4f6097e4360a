/**
 * The streamed sketch of one side (spec/reconcile.md, "Procedure"): a side sends its own
 * sketch units (syndromes for a small estimated difference, rIBLT cells otherwise) from
 * index 0 up, checks the difference at fixed checkpoints as the peer's units arrive, and
 * keeps its own units a set number of chunks ahead of the checkpoint it waits for. Both
 * sides derive the same checkpoints from values both hold and decode the same difference
 * units the same way, so both decode at the same checkpoint, or both reach the cap without
 * decoding, with no message about it.
 */

import { CertsyncError } from '../errors.ts';
import type { SyncStore } from '../merge/store.ts';
import type { ReconcileMessage } from './messages.ts';
import { cellsFromBytes, cellsToBytes, emptyCells, SketchEncoder, type Cells } from './riblt.ts';
import { IncrementalPeeler, PeerCells } from './sketch-stream.ts';
import {
  decodeDifference,
  decodeSyndromeBytes,
  encodeSyndromes,
  syndromesOf,
} from './syndrome-sketch.ts';

/** Checkpoints of a run: the first, the step between two, the cap, and the lookahead. */
export interface RunSchedule {
  readonly first: number;
  readonly chunk: number;
  readonly cap: number;
  /** Chunks a side keeps its own units ahead of the checkpoint it waits for. */
  readonly lookahead: number;
}

/** Most syndromes a run sends: what stores keep (protocol/reconcile/reconcile-index.ts). */
export const SYNDROME_CAP = 64;
/** The largest estimate for which a run starts with syndromes. */
export const SYNDROME_ESTIMATE_LIMIT = 24;

/**
 * The syndrome schedule for estimate `e` between stores of `nA` and `nB` records, or null
 * when the estimate is too large for syndromes or the key lists would cost less: first
 * ceil(11 e / 10) + 2, chunk max(2, ceil(e / 4)), lookahead 1, cap 64. Decoding at t
 * syndromes takes at most t - 1 keys, so one syndrome always checks the others.
 */
export function syndromeSchedule(e: number, nA: number, nB: number): RunSchedule | null {
  if (e > SYNDROME_ESTIMATE_LIMIT) return null;
  const first = Math.ceil((11 * e) / 10) + 2;
  // t syndromes cost 6 t bytes each way; the key lists 6 (nA + nB) in all.
  if (2 * first >= nA + nB) return null;
  return { first, chunk: Math.max(2, Math.ceil(e / 4)), cap: SYNDROME_CAP, lookahead: 1 };
}

/**
 * The cell schedule for estimate `e`, or null when even the first checkpoint reaches the
 * cap (the key lists then cost less): first ceil(6 e / 5) + 2, chunk max(2, ceil(first /
 * 16)), lookahead 2, cap the largest m with 16 m < 6 (nA + nB).
 */
export function cellSchedule(e: number, nA: number, nB: number): RunSchedule | null {
  const first = Math.ceil((6 * e) / 5) + 2;
  const cap = Math.floor((6 * (nA + nB) - 1) / 16);
  if (first >= cap) return null;
  return { first, chunk: Math.max(2, Math.ceil(first / 16)), cap, lookahead: 2 };
}

/** What a run did with one message of the peer's units. */
export type RunStep =
  /** Not decided yet: send `out` (more own units, maybe none). */
  | { readonly kind: 'waiting'; readonly out: ReconcileMessage[] }
  /** Decoded at a checkpoint: the keys of the whole difference. */
  | { readonly kind: 'decoded'; readonly keys: readonly number[] }
  /** The cap was reached without a decode. */
  | { readonly kind: 'exhausted' };

/** The part both kinds of run share: the checkpoint clock and the own units sent. */
abstract class Run {
  /** Checkpoints peeled or decoded so far. */
  checkpoints = 0;
  /** Own units sent so far. */
  sent = 0;
  protected checkpoint: number;
  private over = false;

  constructor(
    readonly schedule: RunSchedule,
    protected readonly perMessage: number,
  ) {
    this.checkpoint = schedule.first;
  }

  /** The first units to send. */
  begin(): ReconcileMessage[] {
    return this.sendThrough(this.ahead());
  }

  /**
   * Takes one message of the peer's units. After the run decided, units still due (the
   * peer's lookahead) are checked for order and bounds, and ignored.
   *
   * @throws CertsyncError `unexpected-message` for units out of order, `limit-exceeded` past
   *   the cap, `malformed-message` for units out of shape
   */
  take(start: number, bytes: Uint8Array): RunStep {
    const received = this.addPeer(start, bytes);
    if (this.over) return { kind: 'waiting', out: [] };
    const out: ReconcileMessage[] = [];
    while (received >= this.checkpoint) {
      this.checkpoints += 1;
      const keys = this.decodeAt(this.checkpoint);
      if (keys !== null) {
        this.over = true;
        return { kind: 'decoded', keys };
      }
      if (this.checkpoint === this.schedule.cap) {
        this.over = true;
        return { kind: 'exhausted' };
      }
      this.checkpoint = Math.min(this.schedule.cap, this.checkpoint + this.schedule.chunk);
      out.push(...this.sendThrough(this.ahead()));
    }
    return { kind: 'waiting', out };
  }

  private ahead(): number {
    const s = this.schedule;
    return Math.min(s.cap, this.checkpoint + s.lookahead * s.chunk);
  }

  private sendThrough(end: number): ReconcileMessage[] {
    const from = this.sent;
    if (end <= from) return [];
    this.sent = end;
    const out: ReconcileMessage[] = [];
    for (let s = from; s < end; s += this.perMessage) {
      out.push(this.ownMessage(s, Math.min(end, s + this.perMessage)));
    }
    return out;
  }

  /** Adds the peer's units; returns how many have arrived in all. */
  protected abstract addPeer(start: number, bytes: Uint8Array): number;
  /** The whole difference when units [0, at) decode it, else null. */
  protected abstract decodeAt(at: number): readonly number[] | null;
  /** One message of own units [from, to) (and keeps them for the decode). */
  protected abstract ownMessage(from: number, to: number): ReconcileMessage;
}

/** Every own sketch key, read from the store once, for units the store does not keep. */
export class OwnKeys {
  private keys: Float64Array | null = null;

  constructor(private readonly store: SyncStore) {}

  get(): Float64Array {
    if (this.keys === null) {
      const all: number[] = [];
      for (const item of this.store.items()) all.push(item.key);
      this.keys = Float64Array.from(all);
    }
    return this.keys;
  }
}

/** A run of rIBLT cells (spec/reconcile.md, "Sketch cells"). */
export class CellRun extends Run {
  private own: Cells = emptyCells(0);
  private readonly peer: PeerCells;
  private readonly peeler = new IncrementalPeeler();
  private encoder: SketchEncoder | null = null;

  constructor(
    schedule: RunSchedule,
    perMessage: number,
    private readonly store: SyncStore,
    private readonly keys: OwnKeys,
  ) {
    super(schedule, perMessage);
    this.peer = new PeerCells(schedule.cap);
  }

  protected addPeer(start: number, bytes: Uint8Array): number {
    this.peer.add(start, cellsFromBytes(bytes));
    return this.peer.count;
  }

  protected decodeAt(at: number): readonly number[] | null {
    const from = this.peeler.size;
    const mine = {
      hi: this.own.hi.subarray(from, at),
      lo: this.own.lo.subarray(from, at),
      chk: this.own.chk.subarray(from, at),
    };
    this.peeler.extend(this.peer.xorWith(mine, from));
    return this.peeler.decoded ? this.peeler.recovered() : null;
  }

  protected ownMessage(from: number, to: number): ReconcileMessage {
    let cells = this.store.sketchCells(from, to);
    if (cells === null) {
      this.encoder ??= new SketchEncoder(this.keys.get());
      if (this.encoder.coded < from) this.encoder.next(from);
      cells = this.encoder.next(to);
    }
    this.own = placeCells(this.own, from, cells);
    return { type: 'cells', start: from, cells: cellsToBytes(cells) };
  }
}

/** A run of BCH syndromes (spec/reconcile.md, "Sketch syndromes"). */
export class SyndromeRun extends Run {
  private own: Float64Array = new Float64Array(0);
  private readonly peer: Float64Array;
  private received = 0;

  constructor(
    schedule: RunSchedule,
    perMessage: number,
    private readonly store: SyncStore,
    private readonly keys: OwnKeys,
  ) {
    super(schedule, perMessage);
    this.peer = new Float64Array(schedule.cap);
  }

  protected addPeer(start: number, bytes: Uint8Array): number {
    if (start !== this.received) {
      throw new CertsyncError(
        'unexpected-message',
        `reconcile: syndromes from ${start}, not ${this.received}`,
      );
    }
    const units = decodeSyndromeBytes(bytes);
    if (start + units.length > this.schedule.cap) {
      throw new CertsyncError(
        'limit-exceeded',
        `reconcile: syndromes past the cap ${this.schedule.cap}`,
      );
    }
    this.peer.set(units, start);
    this.received += units.length;
    return this.received;
  }

  protected decodeAt(at: number): readonly number[] | null {
    const diff = new Float64Array(at);
    for (let i = 0; i < at; i++) diff[i] = xor48(this.own[i] as number, this.peer[i] as number);
    // One syndrome more than keys: a wrong answer then needs a 2^-48 coincidence.
    return decodeDifference(diff, at - 1);
  }

  protected ownMessage(from: number, to: number): ReconcileMessage {
    // Key 0 has no syndromes (it is 0 in every power sum): a store leaves it out too.
    const all =
      this.store.sketchSyndromes(to) ??
      syndromesOf(
        this.keys.get().filter((k) => k !== 0),
        to,
      );
    this.own = all;
    return { type: 'syndromes', start: from, syndromes: encodeSyndromes(all.subarray(from, to)) };
  }
}

/** XOR of two 48-bit values held as numbers. */
function xor48(a: number, b: number): number {
  const hi = (Math.floor(a / 0x1000000) ^ Math.floor(b / 0x1000000)) >>> 0;
  const lo = ((a % 0x1000000) ^ (b % 0x1000000)) >>> 0;
  return hi * 0x1000000 + lo;
}

/** `into` with `cells` written at `at`, grown (doubling) when too short. */
function placeCells(into: Cells, at: number, cells: Cells): Cells {
  const need = at + cells.hi.length;
  let out = into;
  if (need > into.hi.length) {
    out = emptyCells(Math.max(need, 2 * into.hi.length));
    out.hi.set(into.hi);
    out.lo.set(into.lo);
    out.chk.set(into.chk);
  }
  out.hi.set(cells.hi, at);
  out.lo.set(cells.lo, at);
  out.chk.set(cells.chk, at);
  return out;
}
