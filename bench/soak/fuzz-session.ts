/**
 * Fuzz part `fuzz-session`: the session engine fed frames from a broken or hostile peer.
 *
 * Two targets. `session-ready`: frames fed one after another to an engine past the hellos
 * (a new one once it closes). `session-reconcile`: a fresh reconciling engine replays the
 * peer's frames of a real reconcile up to position `input[0]`, then gets the rest of the
 * input as the next frame. The engine must never throw on peer bytes: it answers, or it
 * closes with one error whose code is in the closed set and is not `internal`. After every
 * frame the engine's reply must stay bounded (at most {@link MAX_REPLY_FRAMES} frames).
 */
import { decodeFrame } from '../../protocol/messages/codec.ts';
import { MAX_WANTS } from '../../protocol/reconcile/messages.ts';
import { DEFAULT_LIMITS } from '../../protocol/wire/limits.ts';
import { exchange, Side, testConfig, type LoggedFrame } from '../../protocol/session/harness.ts';
import { MemoryStore } from '../../protocol/session/memory-store.ts';
import { runFuzz, type FuzzTarget } from './fuzz-harness.ts';
import type { PartContext, PartResult } from './part.ts';
import { catalogFrames, reconcileFrames, reconcilingSide } from './seed-frames.ts';

/**
 * Most frames one peer frame may make the engine send: a reconcile `want` names up to
 * MAX_WANTS records and is answered one entry frame each, plus `done` and slack.
 */
export const MAX_REPLY_FRAMES = MAX_WANTS + 8;

/** The peer store of {@link reconcileFrames}: universe items 8..23. */
const B_ITEMS = Array.from({ length: 16 }, (_, i) => i + 8);

/** Thrown by a target to mark an engine misbehaviour (never accepted as a rejection). */
class EngineFault extends Error {
  override name = 'EngineFault';
}

function readySide(): Side {
  const store = new MemoryStore(3, 'alert');
  for (let i = 1; i <= 3; i++) {
    const der = Uint8Array.of(0x30, 0x03, 0x02, 0x01, i);
    store.put({ kind: 'cert', der, pinned: false, clock: i, origin: new Uint8Array(16) });
  }
  const a = new Side('a', testConfig(), { store });
  const b = new Side('b', testConfig(), { store: new MemoryStore() });
  a.feed({ kind: 'start', now: 0 });
  b.feed({ kind: 'start', now: 0 });
  exchange(a, b, 0);
  a.outbox.length = 0;
  a.effects.length = 0;
  return a;
}

/** Feeds one frame and checks what the engine did with it. */
function feedChecked(side: Side, frame: Uint8Array, now: number): void {
  const before = side.outbox.length;
  side.feed({ kind: 'frame', now, frame });
  const sent = side.outbox.length - before;
  if (sent > MAX_REPLY_FRAMES) throw new EngineFault(`one frame made the engine send ${sent}`);
  // The engine's own verdicts: an `internal` error it sends is its bug (a peer may send one).
  for (const out of side.outbox.slice(before)) {
    const d = decodeFrame(out, DEFAULT_LIMITS);
    if (d.kind === 'message' && d.message.type === 'error' && d.message.code === 'internal') {
      throw new EngineFault(`the engine sent error internal: ${d.message.message}`);
    }
  }
  side.outbox.length = 0;
  side.effects.length = 0;
}

/** The targets of this part. */
export function sessionTargets(seed: number): FuzzTarget[] {
  const log: LoggedFrame[] = reconcileFrames();
  const fromA = log.filter((f) => f.from === 'a').map((f) => f.frame);
  const replaySeeds = fromA.map((frame, i) => Uint8Array.of(i, ...frame));
  let side = readySide();
  let now = 10;
  return [
    {
      name: 'session-ready',
      seeds: [...catalogFrames(seed + 1, 200), ...fromA],
      weight: 2,
      run: (frame) => {
        if (side.state.phase === 'closed') side = readySide();
        feedChecked(side, frame, now++);
      },
      accepts: () => false,
    },
    {
      name: 'session-reconcile',
      seeds: replaySeeds,
      run: (input) => {
        const b = reconcilingSide('b', B_ITEMS, 2);
        b.feed({ kind: 'start', now: 0 });
        const k = (input[0] ?? 0) % fromA.length;
        for (let i = 0; i < k && b.state.phase !== 'closed'; i++) {
          feedChecked(b, fromA[i]!, 1);
        }
        if (b.state.phase !== 'closed') feedChecked(b, input.subarray(1), 2);
      },
      accepts: () => false,
    },
  ];
}

/** Runs the part with its share of the fuzz budget. */
export function fuzzSession(ctx: PartContext, inputs: number, seconds: number) {
  return runFuzz(
    'fuzz-session',
    sessionTargets(ctx.seed),
    ctx,
    inputs,
    seconds,
  ) as Promise<PartResult>;
}
