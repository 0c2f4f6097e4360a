/**
 * One step of the session engine in progress: a private draft of the next state, the frames
 * and effects gathered so far, and the helpers every handler uses. A turn never outlives
 * the {@link step} call that made it.
 */

import { CertsyncError, type ErrorCode } from '../errors.ts';
import type { Message } from '../messages/catalog.ts';
import { encodeMessage } from '../messages/codec.ts';
import type { CborKey, CborValue } from '../wire/cbor.ts';
import { encodeReconcile } from '../messages/codec.ts';
import type { SessionReconciler, StoreView } from './store-view.ts';
import type { Effect, SessionState, StepResult } from './types.ts';

/** What the node layer lends the engine for one step. */
export interface SessionEnv {
  readonly store: StoreView;
  /** Absent: this side cannot reconcile (it must not offer the `reconcile` capability). */
  readonly reconciler?: SessionReconciler;
}

/** Most items batches a sender may have unacknowledged (spec/protocol.md, "Transfers"). */
export const WINDOW = 4;

type Draft = { -readonly [K in keyof SessionState]: SessionState[K] };

const MAX_ERROR_TEXT = 1_000;

/** The working copy of one step. */
export class Turn {
  readonly s: Draft;
  readonly frames: Uint8Array[] = [];
  readonly effects: Effect[] = [];

  constructor(
    state: SessionState,
    readonly env: SessionEnv,
    readonly now: number,
  ) {
    this.s = { ...state };
  }

  /** The envelope version: the negotiated one, or our highest before the hellos. */
  private get version(): number {
    return this.s.version ?? this.s.config.versions.max;
  }

  /** Queues one message. */
  send(message: Message): void {
    this.frames.push(encodeMessage(this.version, message, this.s.sendLimits));
  }

  /** Queues one reconciliation message. */
  sendReconcile(code: number, payload: ReadonlyMap<CborKey, CborValue>): void {
    this.frames.push(encodeReconcile(this.version, code, payload, this.s.sendLimits));
  }

  effect(e: Effect): void {
    this.effects.push(e);
  }

  /** A fresh id for a request or transfer this side starts. */
  nextId(): number {
    const id = this.s.nextId;
    this.s.nextId = id + 1;
    return id;
  }

  /** Refuses one request without ending the session (spec/protocol.md, "Errors"). */
  refuse(inReplyTo: number, code: ErrorCode, message: string): void {
    this.send({ type: 'error', code, message: clip(message), inReplyTo, fatal: false });
  }

  /**
   * Ends the session because of `error`: tells the peer (unless the link is gone), then
   * asks the node layer to close (spec/protocol.md, "Violations").
   */
  fail(error: CertsyncError, tellPeer = true): void {
    if (this.s.phase === 'closed') return;
    if (tellPeer) {
      this.send({ type: 'error', code: error.code, message: clip(error.message), fatal: true });
    }
    this.closeWith(error);
  }

  /** Moves to `closed` and asks the node layer to close the link. */
  closeWith(error: CertsyncError | null): void {
    this.s.phase = 'closed';
    this.s.deadline = null;
    this.s.requests = [];
    this.s.outbound = null;
    this.s.inbound = null;
    this.s.reconcileDeadline = null;
    this.effect({ kind: 'close', error });
  }

  /** Throws the violation a message out of turn is. */
  unexpected(what: string): never {
    throw new CertsyncError('unexpected-message', what);
  }

  /** The earliest moment something times out, or null. */
  nextDeadline(): number | null {
    const all: number[] = [];
    if (this.s.deadline !== null) all.push(this.s.deadline);
    for (const r of this.s.requests) all.push(r.deadline);
    const out = this.s.outbound;
    if (out && out.alert === null && (out.unacked.length > 0 || out.ended)) all.push(out.deadline);
    if (this.s.inbound) all.push(this.s.inbound.deadline);
    if (this.s.reconcileDeadline !== null) all.push(this.s.reconcileDeadline);
    return all.length === 0 ? null : Math.min(...all);
  }

  result(): StepResult {
    if (this.s.phase !== 'closed') this.effect({ kind: 'set-timer', at: this.nextDeadline() });
    else this.effect({ kind: 'set-timer', at: null });
    return { state: Object.freeze({ ...this.s }), frames: this.frames, effects: this.effects };
  }
}

function clip(text: string): string {
  return text.length <= MAX_ERROR_TEXT / 4 ? text : `${text.slice(0, MAX_ERROR_TEXT / 4 - 1)}…`;
}
