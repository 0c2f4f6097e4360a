/**
 * Hostile peers against the session engine itself (pure, virtual time): a peer that stalls
 * before or after hello, sends an oversized frame, a message whose head claims endless
 * contents, repeats its hello, floods requests, or claims a store of four billion records.
 * Each must be cut off with its error code within the protocol's timeouts, the engine's
 * state and replies must stay bounded, and the honest store must not change.
 */
import type { ErrorCode } from '../../protocol/errors.ts';
import type { MemoryStore as SyncMemoryStore } from '../../protocol/merge/memory-store.ts';
import type { MessageOf } from '../../protocol/messages/catalog.ts';
import { decodeFrame, encodeMessage } from '../../protocol/messages/codec.ts';
import { DIGEST_BYTES } from '../../protocol/reconcile/messages.ts';
import type { Side } from '../../protocol/session/harness.ts';
import { DEFAULT_TIMEOUTS } from '../../protocol/session/types.ts';
import { DEFAULT_LIMITS } from '../../protocol/wire/limits.ts';
import { reconcilingPair, reconcilingSide } from './seed-frames.ts';

const L = DEFAULT_LIMITS;

/** One scripted peer: the frames it sends after hello, and the codes that may end it. */
export interface EngineScript {
  readonly name: string;
  /** The codes the honest side may close with; `'answered'` allows staying open. */
  readonly expect: readonly (ErrorCode | 'answered')[];
  /** Frames the hostile peer sends, given its own hello; null: it sends its hello only. */
  frames(hello: Uint8Array): Iterable<Uint8Array> | null;
  /** Whether the peer sends a hello at all. */
  readonly silent?: boolean;
}

/** What one play of a script did. */
export interface EngineOutcome {
  readonly script: string;
  /** The close code, or 'answered' when the engine kept the session open. */
  readonly outcome: ErrorCode | 'answered' | 'clean-close';
  /** Virtual ms from the first hostile frame to the close. */
  readonly cutOffMs: number;
  readonly framesFed: number;
  /** Most frames the engine sent in answer to one hostile frame. */
  readonly maxReply: number;
  readonly storeUnchanged: boolean;
  /** Largest engine state seen, in bytes of its JSON form. */
  readonly maxStateBytes: number;
}

function hostileHello(): Uint8Array {
  const peer = reconcilingSide('hostile', [0, 1, 2], 9);
  peer.feed({ kind: 'start', now: 0 });
  return peer.outbox[0]!;
}

function helloWith(hello: Uint8Array, change: (h: MessageOf<'hello'>) => MessageOf<'hello'>) {
  const d = decodeFrame(hello, L);
  if (d.kind !== 'message' || d.message.type !== 'hello') throw new TypeError('expected hello');
  return encodeMessage(1, change(d.message), L);
}

function listRequest(id: number): Uint8Array {
  return encodeMessage(
    1,
    { type: 'list-request', id, order: 'store', filter: 'all', limit: 10 },
    L,
  );
}

/** The scripts. */
export const ENGINE_SCRIPTS: readonly EngineScript[] = [
  { name: 'stall-before-hello', expect: ['timeout'], silent: true, frames: () => null },
  { name: 'stall-in-reconcile', expect: ['timeout'], frames: () => null },
  {
    name: 'oversized-frame',
    expect: ['frame-too-large'],
    frames: () => [new Uint8Array(L.maxFrameBytes + 1).fill(0x41)],
  },
  {
    name: 'endless-message',
    expect: ['frame-too-large', 'limit-exceeded', 'malformed-message'],
    frames: () => [
      Uint8Array.of(0x83, 0x01, 0x20, 0xa1, 0x00, 0x5b, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3),
    ],
  },
  { name: 'repeated-hello', expect: ['unexpected-message'], frames: (h) => [h, h, h] },
  {
    name: 'flood-requests',
    expect: ['answered', 'timeout', 'limit-exceeded', 'unexpected-message'],
    frames: function* () {
      for (let id = 1; id <= 20_000; id++) yield listRequest(id);
    },
  },
  {
    name: 'huge-store',
    expect: ['limit-exceeded', 'malformed-message'],
    frames: () => null,
  },
];

function stateBytes(side: Side): number {
  return JSON.stringify(side.state, (_k, v: unknown) =>
    v instanceof Uint8Array ? v.length : typeof v === 'bigint' ? String(v) : v,
  ).length;
}

function snapshot(side: Side, store: SyncMemoryStore): string {
  const { root, count } = store.digest();
  return `${side.env.store.selectAll().join(',')}|${Buffer.from(root).toString('hex')}|${count}`;
}

/** Plays one script against a fresh honest engine that reconciles by itself. */
export function playEngineScript(script: EngineScript): EngineOutcome {
  const { side: honest, store } = reconcilingPair('honest', [0, 1, 2, 3, 4, 5], 1);
  const before = snapshot(honest, store);
  let now = 0;
  honest.feed({ kind: 'start', now });
  let hello = hostileHello();
  if (script.name === 'huge-store') {
    hello = helloWith(hello, (h) => {
      const digest = new Uint8Array(DIGEST_BYTES);
      digest.set(h.summary.digest.subarray(0, DIGEST_BYTES));
      new DataView(digest.buffer).setUint32(17, 0xffffffff);
      return { ...h, summary: { ...h.summary, certificates: 2 ** 32, digest } };
    });
  }
  const start = now;
  let fed = 0;
  let maxReply = 0;
  let maxState = stateBytes(honest);
  const feed = (frame: Uint8Array) => {
    const n = honest.outbox.length;
    honest.feed({ kind: 'frame', now: ++now, frame });
    fed++;
    maxReply = Math.max(maxReply, honest.outbox.length - n);
    honest.outbox.length = 0;
    if (fed % 1000 === 0 || fed < 10) maxState = Math.max(maxState, stateBytes(honest));
  };
  if (!script.silent) feed(hello);
  for (const frame of script.frames(hello) ?? []) {
    if (honest.state.phase === 'closed') break;
    feed(frame);
  }
  // Then the peer goes quiet: time runs on in steps until the engine gives up, or past
  // every timeout of the protocol.
  const limit = now + DEFAULT_TIMEOUTS.hello + DEFAULT_TIMEOUTS.answer + 10_000;
  while (honest.state.phase !== 'closed' && now < limit) {
    now += 500;
    honest.feed({ kind: 'tick', now });
    honest.outbox.length = 0;
  }
  const close = honest.seen('close')[0];
  const outcome: EngineOutcome['outcome'] =
    close === undefined ? 'answered' : close.error === null ? 'clean-close' : close.error.code;
  return {
    script: script.name,
    outcome,
    cutOffMs: now - start,
    framesFed: fed,
    maxReply,
    storeUnchanged: snapshot(honest, store) === before,
    maxStateBytes: Math.max(maxState, stateBytes(honest)),
  };
}
