/**
 * The runner's side of one run of spec/reconcile.md 9.2 (syndromes or cells), judging the
 * implementation's units as they come. The runner loaded the implementation's store, so
 * it knows the units that store must produce (8.1, 8.2), byte for byte, and the checkpoint
 * at which both sides decode (run-schedule.ts); it checks every unit message against them
 * and against the lookahead, and plays a correct peer: its own units [0, first + lookahead ·
 * chunk) at the start, then one checkpoint's worth more as the implementation's units pass
 * each checkpoint that does not decode.
 *
 * The runner sends its first units only once the implementation's first units are in, so
 * that what the implementation sent by then is what it sends unasked (its begin).
 */
import assert from 'node:assert/strict';
import type { RMsg } from './reconcile-messages.ts';
import { cellsOf, type Key } from './reconcile-model.ts';
import {
  mostSent,
  nextCheckpoint,
  reachAt,
  waitingAt,
  type RunKind,
  type RunPlan,
} from './run-schedule.ts';
import { powerSums, syndromeBytes } from './syndrome-model.ts';

/** Units per message the runner sends: what 9.1 says a sender SHOULD put in one. */
const PER_MESSAGE: Record<RunKind, number> = { syndromes: 64, cells: 480 };
const UNIT_BYTES: Record<RunKind, number> = { syndromes: 6, cells: 8 };

/** The units of `keys` a run of `kind` may send, [0, `count`). */
function unitsOf(kind: RunKind, keys: readonly Key[], count: number): Uint8Array {
  return kind === 'syndromes' ? syndromeBytes(powerSums(keys, count)) : cellsOf(keys, count);
}

/** How the runner plays its side. */
export interface RunOptions {
  /**
   * Hold back the own units past the decoding checkpoint (the lookahead a side sends before
   * it decodes) until the implementation has shown it decoded; {@link RunPeer.release} then
   * gives them.
   */
  readonly holdLate?: boolean;
}

/** One run between the runner and the implementation; see the module comment. */
export class RunPeer {
  readonly kind: RunKind;
  /** Units received from the implementation, and own units sent. */
  implSent = 0;
  runnerSent = 0;
  /** `decoded` or `exhausted` once the implementation's units reached the last checkpoint. */
  state: 'running' | 'decoded' | 'exhausted' = 'running';
  private readonly unit: number;
  private readonly implUnits: Uint8Array;
  private readonly ownUnits: Uint8Array;
  private readonly last: number;
  private waiting: number;
  private started = false;
  private left = false;
  /** How far the own units are due; beyond `runnerSent` when some are held back. */
  private due = 0;
  /** Where each own message sent so far ended. */
  private readonly ends: number[] = [];

  constructor(
    readonly plan: RunPlan,
    implKeys: readonly Key[],
    ownKeys: readonly Key[],
    private readonly options: RunOptions = {},
  ) {
    this.kind = plan.kind;
    this.unit = UNIT_BYTES[plan.kind];
    this.last = plan.checkpoints[plan.checkpoints.length - 1] as number;
    const most = reachAt(plan.schedule, this.last);
    this.implUnits = unitsOf(plan.kind, implKeys, most);
    this.ownUnits = unitsOf(plan.kind, ownKeys, most);
    this.waiting = plan.schedule.first;
  }

  /** True once the implementation's first units are in and the runner sent its own. */
  get begun(): boolean {
    return this.started;
  }

  /** How far the implementation's first units reach, unasked: first + lookahead · chunk. */
  get beginEnd(): number {
    return reachAt(this.plan.schedule, this.plan.schedule.first);
  }

  /** The checkpoint both sides decode at, or the cap the run reaches without decoding. */
  get decidingCheckpoint(): number {
    return this.last;
  }

  /**
   * Takes one message of the implementation's units and returns the runner's own units to
   * send in answer.
   *
   * @throws AssertionError when the units break 8.1, 8.2 or 9.2
   */
  take(m: Extract<RMsg, { type: 'cells' | 'syndromes' }>): RMsg[] {
    const what = this.kind;
    assert.equal(m.type, what, `the implementation sent ${m.type} during a run of ${what}`);
    const bytes = m.type === 'cells' ? m.cells : m.syndromes;
    const end = m.start + bytes.length / this.unit;
    assert.equal(m.start, this.implSent, `${what} start where the last ones ended`);
    assert.ok(end <= this.plan.schedule.cap, `${what} never go past the cap`);
    const bound = mostSent(this.plan, this.runnerSent);
    assert.ok(
      end <= bound,
      `the implementation sent ${what} [0, ${end}) with ${this.runnerSent} of the runner's ` +
        `in: waiting for checkpoint ${waitingAt(this.plan, this.runnerSent)} it sends at ` +
        `most [0, ${bound}) (its lookahead)`,
    );
    const want = this.implUnits.subarray(this.unit * m.start, this.unit * end);
    const at = firstDifference(bytes, want, this.unit);
    assert.ok(
      at < 0,
      `${what.slice(0, -1)} ${m.start + at} is not the one of the implementation's store ` +
        `(${what === 'syndromes' ? 'reconcile.md 8.1: power sums, 6 bytes big-endian' : 'reconcile.md 8.2'})`,
    );
    this.implSent = end;
    const out: RMsg[] = [];
    if (!this.started && this.implSent >= this.beginEnd) {
      this.started = true;
      out.push(...this.sendThrough(this.beginEnd));
    }
    if (!this.started || this.state !== 'running') return out;
    while (this.implSent >= this.waiting) {
      if (this.waiting === this.last) {
        this.state = this.plan.decoded ? 'decoded' : 'exhausted';
        break;
      }
      this.waiting = nextCheckpoint(this.plan.schedule, this.waiting);
      out.push(...this.sendThrough(reachAt(this.plan.schedule, this.waiting)));
    }
    return out;
  }

  /**
   * The implementation went on from this run (entries, key lists, the next run): it must
   * have decided at the checkpoint the model says, once the runner's units reached it, with
   * its own units reaching that checkpoint plus its lookahead.
   *
   * One reading of 9.2 rule 3 is left open: a side whose checkpoint fails and whose next one
   * decodes on the same message of the peer's may send its units up to the decoding
   * checkpoint plus the lookahead (the units the rule names at the failed checkpoint), or
   * only those of the checkpoint it last waited at, since the peer decodes without them.
   * certsync does the latter; both are accepted for a decoded run. A run that reaches its
   * cap must have sent the cap: the peer needs every unit to get there.
   *
   * @throws AssertionError when it left the run early, late or with too few units
   */
  leave(what: string): void {
    if (this.left) return;
    this.left = true;
    const how = this.plan.decoded ? 'decodes' : 'reaches the cap';
    assert.ok(
      this.runnerSent >= this.last,
      `the implementation sent ${what} with ${this.runnerSent} of the runner's ${this.kind} in; ` +
        `the run ${how} at checkpoint ${this.last} (${this.kind === 'syndromes' ? 'm = c - 1' : 'peeling'})`,
    );
    const s = this.plan.schedule;
    const full = reachAt(s, this.last);
    const before = Math.max(0, ...this.ends.filter((e) => e < this.last));
    const waited = this.plan.decoded ? reachAt(s, waitingAt(this.plan, before)) : full;
    assert.ok(
      this.implSent === full || this.implSent === waited,
      `the implementation's ${this.kind} reach [0, ${this.implSent}) when it sends ${what}: ` +
        `checkpoint ${this.last} plus its lookahead is [0, ${full})` +
        (waited === full
          ? ''
          : `, the checkpoint it last waited at plus its lookahead [0, ${waited})`),
    );
  }

  /** The own units held back by `holdLate`, due now. */
  release(): RMsg[] {
    const from = this.runnerSent;
    if (this.due <= from) return [];
    this.runnerSent = this.due;
    return this.sent(this.messages(from, this.due));
  }

  /** Own units [from, to) as messages, for cases that send them themselves. */
  messages(from: number, to: number): RMsg[] {
    const out: RMsg[] = [];
    for (let s = from; s < to; s += PER_MESSAGE[this.kind]) {
      const e = Math.min(to, s + PER_MESSAGE[this.kind]);
      const units = this.ownUnits.slice(this.unit * s, this.unit * e);
      out.push(
        this.kind === 'cells'
          ? { type: 'cells', start: s, cells: units }
          : { type: 'syndromes', start: s, syndromes: units },
      );
    }
    return out;
  }

  private sendThrough(end: number): RMsg[] {
    this.due = Math.max(this.due, end);
    const hold = this.options.holdLate && this.plan.decoded ? this.last : end;
    const to = Math.min(end, hold);
    const from = this.runnerSent;
    if (to <= from) return [];
    this.runnerSent = to;
    return this.sent(this.messages(from, to));
  }

  private sent(ms: RMsg[]): RMsg[] {
    for (const m of ms) {
      if (m.type === 'cells') this.ends.push(m.start + m.cells.length / 8);
      if (m.type === 'syndromes') this.ends.push(m.start + m.syndromes.length / 6);
    }
    return ms;
  }
}

/** The index of the first unit where `a` and `b` differ, or -1 when they are equal. */
function firstDifference(a: Uint8Array, b: Uint8Array, unit: number): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return Math.floor(i / unit);
  }
  return -1;
}
