/**
 * The session engine: a pure step function `(state, event) -> { state, frames, effects }`
 * that enforces which message may come when (spec/protocol.md, "Session"). It reads no
 * clock (time comes with each event), does no I/O (frames go out through the result, the
 * store is reached through {@link StoreView}), and sits above the secure channel, which
 * hands it decrypted frames.
 */

import { CertsyncError, isCertsyncError } from '../errors.ts';
import type { Message, MessageOf } from '../messages/catalog.ts';
import { decodeFrame, type Incoming } from '../messages/codec.ts';
import { checkPeerMayRequest } from '../secure/policy.ts';
import { withFrameLimit } from '../wire/limits.ts';
import { negotiateVersion } from '../wire/version.ts';
import {
  decodeReconcileMessage,
  encodeReconcileMessage,
  type ReconcileMessage,
} from '../reconcile/messages.ts';
import type { SessionReconciler } from './store-view.ts';
import {
  answerOverflow,
  beginOutbound,
  onItems,
  onItemsAck,
  onOverflowAlert,
  onOverflowAnswer,
  onTransferBegin,
  onTransferDone,
  onTransferEnd,
} from './transfers.ts';
import { hexOf } from '../wire/hex.ts';
import { Turn, type SessionEnv } from './turn.ts';
import type { Command, SessionConfig, SessionEvent, SessionState, StepResult } from './types.ts';

/** The capability code of a side that can reconcile (spec/protocol.md, "hello"). */
export const RECONCILE_CAPABILITY = 1;

/** A new session, before `start`. */
export function createSession(config: SessionConfig): SessionState {
  return Object.freeze({
    config,
    phase: 'awaiting-hello',
    version: null,
    peer: null,
    sendLimits: config.limits,
    nextId: 1,
    requests: [],
    outbound: null,
    inbound: null,
    peerHolds: new Set<string>(),
    reconcile: 'idle',
    reconcileDeadline: null,
    deadline: null,
  });
}

/**
 * Advances a session by one event. Never throws for anything the peer sends: a bad frame or
 * a message out of turn becomes an `error` frame and a `close` effect.
 *
 * @throws RangeError / TypeError for a caller mistake: a command the current state cannot
 *   take (check {@link canStart} first), a command after `closed`, any event before
 *   `start`, or a second `start`
 */
export function step(state: SessionState, event: SessionEvent, env: SessionEnv): StepResult {
  const t = new Turn(state, env, event.now);
  if (state.phase === 'closed') {
    if (event.kind === 'command') throw new RangeError('expected an open session, got closed');
    return t.result();
  }
  const started = state.phase !== 'awaiting-hello' || state.deadline !== null;
  if (started === (event.kind === 'start')) {
    throw new RangeError(`expected ${started ? 'one start' : 'start first'}, got ${event.kind}`);
  }
  try {
    switch (event.kind) {
      case 'start':
        start(t);
        break;
      case 'frame':
        onFrame(t, event.frame);
        break;
      case 'tick':
        onTick(t);
        break;
      case 'command':
        onCommand(t, event.command);
        break;
      case 'link-closed':
        t.closeWith(
          state.phase === 'closing' ? null : new CertsyncError('link-closed', 'the link closed'),
        );
        break;
    }
  } catch (err) {
    if (!isCertsyncError(err)) throw err;
    t.fail(err);
  }
  return t.result();
}

/** True when the session can take `op` now (a transfer or an alert may be in the way). */
export function canStart(state: SessionState, op: Command['op']): boolean {
  if (state.phase !== 'ready') return false;
  if (op === 'push') return state.outbound === null;
  if (op === 'pull')
    return state.inbound === null && !state.requests.some((r) => r.kind === 'pull');
  if (op === 'overflow-choice') return state.outbound?.alert != null;
  if (op === 'reconcile') return state.reconcile === 'idle';
  return true;
}

function start(t: Turn): void {
  const { config } = t.s;
  const summary = t.env.store.summary();
  const digest = t.env.reconciler?.hello() ?? summary.digest;
  t.send({
    type: 'hello',
    versions: [config.versions.min, config.versions.max],
    capabilities: [...config.capabilities],
    summary: { ...summary, digest },
    maxFrame: config.limits.maxFrameBytes,
    sync: config.sync,
    ...(config.name !== undefined ? { name: config.name } : {}),
  });
  t.s.deadline = t.now + config.timeouts.hello;
}

function onFrame(t: Turn, frame: Uint8Array): void {
  if (t.s.phase === 'closing') return onFrameWhileClosing(t, frame);
  const incoming = decodeFrame(frame, t.s.config.limits);
  if (incoming.kind === 'ignored') return;
  const name = incoming.kind === 'message' ? incoming.message.type : 'reconcile';
  checkPeerMayRequest(t.s.config.standing, name);
  if (t.s.phase === 'awaiting-hello') {
    if (name !== 'hello' && name !== 'error') t.unexpected(`${name} before hello`);
  } else if (incoming.version !== t.s.version) {
    throw new CertsyncError(
      'malformed-message',
      `frame of version ${incoming.version} in a session of version ${t.s.version}`,
    );
  }
  restartTransferWaits(t);
  if (incoming.kind === 'reconcile') {
    const r = t.env.reconciler;
    if (!r || !bothReconcile(t)) {
      t.unexpected(`reconciliation message ${incoming.code}, which this side did not offer`);
    }
    const message = decodeReconcileMessage(incoming.code, incoming.payload);
    // The peer began first: begin too, so both sides run the same symmetric steps.
    if (t.s.reconcile === 'idle') beginReconcile(t, r);
    if (t.s.phase === 'closed') return;
    sendReconcile(t, r, r.receive(message));
    return;
  }
  onMessage(t, incoming.message);
}

/** Every frame from the peer restarts the waits of running transfers (spec 8.4). */
function restartTransferWaits(t: Turn): void {
  const deadline = t.now + t.s.config.timeouts.answer;
  const out = t.s.outbound;
  if (out && out.alert === null) t.s.outbound = { ...out, deadline };
  const inb = t.s.inbound;
  if (inb && inb.waiting === null) t.s.inbound = { ...inb, deadline };
}

/** After our goodbye only the peer's goodbye or error matter; the rest is discarded. */
function onFrameWhileClosing(t: Turn, frame: Uint8Array): void {
  let incoming: Incoming;
  try {
    incoming = decodeFrame(frame, t.s.config.limits);
  } catch {
    return;
  }
  if (incoming.kind !== 'message') return;
  const m = incoming.message;
  if (m.type === 'goodbye') t.closeWith(null);
  else if (m.type === 'error' && m.fatal) onError(t, m);
}

function onMessage(t: Turn, m: Message): void {
  switch (m.type) {
    case 'hello':
      return onHello(t, m);
    case 'error':
      return onError(t, m);
    case 'goodbye':
      if (t.s.phase !== 'closing') t.send({ type: 'goodbye' });
      return t.closeWith(null);
    case 'list-request':
      return onListRequest(t, m);
    case 'list-page':
      return answered(t, 'list', m.id) && t.effect({ kind: 'list-page', page: m });
    case 'pull-request':
      return onPullRequest(t, m);
    case 'delete-request': {
      const results = m.ids.map((id) => t.env.store.delete(hexOf(id)));
      return t.send({ type: 'delete-result', id: m.id, results });
    }
    case 'delete-result':
      return answered(t, 'delete', m.id) && t.effect({ kind: 'delete-result', result: m });
    case 'validity-report':
      return t.effect({ kind: 'validity-report', report: m });
    case 'transfer-begin':
      return onTransferBegin(t, m);
    case 'items':
      return onItems(t, m);
    case 'transfer-end':
      return onTransferEnd(t, m);
    case 'items-ack':
      return onItemsAck(t, m);
    case 'transfer-done':
      return onTransferDone(t, m);
    case 'overflow-alert':
      return onOverflowAlert(t, m);
    case 'overflow-answer':
      return onOverflowAnswer(t, m);
  }
}

function onHello(t: Turn, m: MessageOf<'hello'>): void {
  if (t.s.phase !== 'awaiting-hello') t.unexpected('a second hello');
  const [min, max] = m.versions;
  if (min < 1 || min > max) {
    throw new CertsyncError('malformed-message', `hello.versions ${min}..${max} is not a range`);
  }
  const version = negotiateVersion(t.s.config.versions, { min, max });
  if (version === null) {
    const ours = t.s.config.versions;
    throw new CertsyncError(
      'no-common-version',
      `this side speaks versions ${ours.min}..${ours.max}, the peer ${min}..${max}`,
    );
  }
  const frameLimit = Math.min(m.maxFrame, t.s.config.limits.maxFrameBytes);
  t.s.version = version;
  t.s.peer = m;
  t.s.sendLimits = withFrameLimit(t.s.config.limits, frameLimit);
  t.s.phase = 'ready';
  t.s.deadline = null;
  t.effect({ kind: 'ready', version, peer: m });
  // Either side's setting starts it (spec/protocol.md, "Reconciliation").
  const r = t.env.reconciler;
  const auto = t.s.config.sync === 'auto' || m.sync === 'auto';
  if (auto && r && bothReconcile(t)) beginReconcile(t, r);
}

function bothReconcile(t: Turn): boolean {
  const peer = t.s.peer;
  return (
    peer !== null &&
    peer.capabilities.includes(RECONCILE_CAPABILITY) &&
    t.s.config.capabilities.includes(RECONCILE_CAPABILITY)
  );
}

function beginReconcile(t: Turn, r: SessionReconciler): void {
  t.s.reconcile = 'running';
  sendReconcile(t, r, r.begin((t.s.peer as MessageOf<'hello'>).summary.digest));
}

function sendReconcile(t: Turn, r: SessionReconciler, out: readonly ReconcileMessage[]): void {
  for (const msg of out) {
    const { code, payload } = encodeReconcileMessage(msg);
    t.sendReconcile(code, payload);
  }
  if (r.finished) {
    // A finished side still answers a late want from the peer; report the first finish only.
    if (t.s.reconcile !== 'finished') t.effect({ kind: 'reconciled', report: r.report() });
    t.s.reconcile = 'finished';
    t.s.reconcileDeadline = null;
  } else {
    t.s.reconcileDeadline = t.now + t.s.config.timeouts.answer;
  }
}

function onError(t: Turn, m: MessageOf<'error'>): void {
  t.effect({ kind: 'peer-error', error: m });
  if (m.fatal) {
    t.closeWith(new CertsyncError(m.code, `the peer ended the session: ${m.message}`));
    return;
  }
  const id = m.inReplyTo;
  if (id === undefined || !t.s.requests.some((r) => r.id === id)) {
    t.unexpected(`a non-fatal error that answers no request of ours (${String(id)})`);
  }
  t.s.requests = t.s.requests.filter((r) => r.id !== id);
}

/** Removes the answered request; a stray answer is a violation. */
function answered(t: Turn, kind: 'list' | 'delete', id: number): true {
  if (!t.s.requests.some((r) => r.kind === kind && r.id === id)) {
    t.unexpected(`an answer to ${kind} request ${id}, which is not pending`);
  }
  t.s.requests = t.s.requests.filter((r) => r.id !== id);
  return true;
}

/** What the peer lacks, when the reconciliation knows it (filter `lacking`). */
function peerLacks(t: Turn): readonly string[] | null {
  return t.env.reconciler?.peerLacks?.() ?? null;
}

function onListRequest(t: Turn, m: MessageOf<'list-request'>): void {
  const lacks = m.filter === 'lacking' ? peerLacks(t) : null;
  if (m.filter === 'lacking' && lacks === null) {
    return t.refuse(m.id, 'unexpected-message', 'what you lack is not known here yet');
  }
  const only = lacks !== null ? new Set(lacks) : undefined;
  const page = t.env.store.list({
    order: m.order,
    limit: m.limit,
    ...(only ? { only } : {}),
    ...(m.cursor ? { cursor: m.cursor } : {}),
  });
  t.send({
    type: 'list-page',
    id: m.id,
    entries: [...page.entries],
    total: page.total,
    ...(page.next ? { next: page.next } : {}),
  });
}

function onPullRequest(t: Turn, m: MessageOf<'pull-request'>): void {
  if (t.s.outbound !== null) {
    return t.refuse(m.id, 'unexpected-message', 'a transfer to you is already running');
  }
  const requested = m.ids?.map(hexOf);
  const lacks = requested === undefined && m.filter === 'lacking' ? peerLacks(t) : null;
  if (requested === undefined && m.filter === 'lacking' && lacks === null) {
    return t.refuse(m.id, 'unexpected-message', 'what you lack is not known here yet');
  }
  const ids = requested ?? lacks ?? t.env.store.selectAll();
  beginOutbound(t, m.id, m.mode, ids, requested);
}

function onTick(t: Turn): void {
  const due = t.nextDeadline();
  if (due === null || t.now < due) return;
  if (t.s.phase === 'closing') return t.closeWith(null);
  throw new CertsyncError('timeout', `the peer did not answer within the time allowed`);
}

function onCommand(t: Turn, c: Command): void {
  if (!canStart(t.s, c.op)) {
    throw new RangeError(`expected a session that can ${c.op} now, got phase ${t.s.phase}`);
  }
  const answerBy = t.now + t.s.config.timeouts.answer;
  switch (c.op) {
    case 'list': {
      const id = t.nextId();
      t.s.requests = [...t.s.requests, { id, kind: 'list', deadline: answerBy }];
      const { order, filter, limit } = c;
      return t.send({ type: 'list-request', id, order, filter, limit, ...cursorOf(c.cursor) });
    }
    case 'push':
      return beginOutbound(t, t.nextId(), c.mode, c.ids);
    case 'pull': {
      const id = t.nextId();
      const one = c.ids?.length === 1 ? { askedFor: hexOf(c.ids[0] as Uint8Array) } : {};
      t.s.requests = [...t.s.requests, { id, kind: 'pull', deadline: answerBy, ...one }];
      const ids = c.ids ? { ids: [...c.ids] } : {};
      return t.send({ type: 'pull-request', id, mode: c.mode, filter: c.filter, ...ids });
    }
    case 'delete': {
      const id = t.nextId();
      t.s.requests = [...t.s.requests, { id, kind: 'delete', deadline: answerBy }];
      return t.send({ type: 'delete-request', id, ids: [...c.ids] });
    }
    case 'report-validity':
      return t.send({ type: 'validity-report', checkedAt: c.checkedAt, results: [...c.results] });
    case 'reconcile': {
      const r = t.env.reconciler;
      if (!r || !bothReconcile(t)) {
        throw new RangeError('expected both sides to offer reconcile, got one without');
      }
      return beginReconcile(t, r);
    }
    case 'overflow-choice':
      return answerOverflow(t, c.victim);
    case 'goodbye':
      t.send({ type: 'goodbye', ...(c.reason !== undefined ? { reason: c.reason } : {}) });
      // Everything still running is abandoned (spec/protocol.md, "goodbye").
      t.s.phase = 'closing';
      t.s.requests = [];
      t.s.outbound = null;
      t.s.inbound = null;
      t.s.deadline = t.now + t.s.config.timeouts.goodbye;
      return;
  }
}

function cursorOf(cursor: Uint8Array | undefined): { cursor?: Uint8Array } {
  return cursor ? { cursor } : {};
}
