/**
 * Soak part `hostile-peers`: scripted hostile peers against the session engine
 * (hostile-engine.ts) and against a real `certsync serve --link tcp` (hostile-serve.ts).
 * A failure is a peer not cut off (or cut off with another code than its script allows),
 * a reply or state that grows with the attack, an honest store that changed, an honest peer
 * not served after the attacks, or a server that died or grew past {@link SERVER_RSS_MB}.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_WANTS } from '../../protocol/reconcile/messages.ts';
import { DEFAULT_TIMEOUTS } from '../../protocol/session/types.ts';
import { ENGINE_SCRIPTS, playEngineScript } from './hostile-engine.ts';
import { attackServe, SOCKET_SCRIPTS, type ServeWaits } from './hostile-serve.ts';
import { emptyResult, fail, type PartContext, type PartResult } from './part.ts';

/** Largest engine state, in bytes of its JSON form, whatever the peer sends. */
export const MAX_STATE_BYTES = 64 * 1024;
/** Largest resident memory of a server under attack, in MiB. */
export const SERVER_RSS_MB = 400;

/**
 * The server's waits and how long, in ms, it may take to cut off one hostile connection,
 * per budget. The full budget runs the server with its default waits (15 s for a hello,
 * 30 s for a handshake); the others with short ones, to stay quick.
 */
function serveLimits(budget: string): { waits: ServeWaits | null; boundMs: number } {
  if (budget === 'full') return { waits: null, boundMs: 40_000 };
  if (budget === 'tiny') return { waits: { hello: 1, handshake: 1.5, idle: 2 }, boundMs: 5_000 };
  return { waits: { hello: 3, handshake: 4, idle: 5 }, boundMs: 10_000 };
}

/** Runs the part. */
export async function hostilePeers(ctx: PartContext): Promise<PartResult> {
  const result = emptyResult('hostile-peers');
  const t0 = performance.now();
  const engineBound = DEFAULT_TIMEOUTS.hello + DEFAULT_TIMEOUTS.answer;
  for (let round = 0; round < ctx.budget.hostileRounds; round++) {
    for (const script of ENGINE_SCRIPTS) {
      const o = playEngineScript(script);
      ctx.memory.sample();
      result.inputs += o.framesFed;
      const tag = `engine ${o.script}`;
      result.figures[`${tag} outcome`] = o.outcome;
      result.figures[`${tag} cut off after virtual ms`] = o.cutOffMs;
      result.figures[`${tag} max state bytes`] = o.maxStateBytes;
      const allowed = (script.expect as readonly string[]).includes(o.outcome);
      if (!allowed)
        fail(result, tag, `ended with ${o.outcome}, expected ${script.expect.join('|')}`);
      if (o.outcome !== 'answered' && o.cutOffMs > engineBound) {
        fail(result, tag, `cut off only after ${o.cutOffMs} virtual ms`);
      }
      if (o.maxReply > MAX_WANTS + 8) fail(result, tag, `one frame drew ${o.maxReply} replies`);
      if (o.maxStateBytes > MAX_STATE_BYTES) {
        fail(result, tag, `engine state grew to ${o.maxStateBytes} bytes`);
      }
      if (!o.storeUnchanged) fail(result, tag, 'the honest store changed');
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'certsync-hostile-'));
  try {
    const { waits, boundMs: bound } = serveLimits(ctx.budget.name);
    // Each stalled connection costs a whole wait, so the server gets at most two rounds.
    const rounds = Math.min(2, ctx.budget.hostileRounds);
    const report = await attackServe(dir, rounds, bound, waits);
    for (const o of report.outcomes) {
      const tag = `serve ${o.script}`;
      const script = SOCKET_SCRIPTS.find((x) => x.name === o.script)!;
      result.inputs++;
      result.figures[`${tag} cut off ms`] = o.cutOff ? o.cutOffMs : `not within ${bound}`;
      result.figures[`${tag} bytes sent`] = o.bytesSent;
      result.figures[`${tag} code`] = o.code;
      if (!o.cutOff) fail(result, tag, `the server kept the connection past ${bound} ms`);
      if (!script.expect.includes(o.code)) {
        fail(result, tag, `cut off with ${o.code}, expected ${script.expect.join('|')}`);
      }
    }
    if (report.honestStatus !== 0) {
      const what = `peer list after the attacks exited ${report.honestStatus}`;
      fail(result, 'serve honest-peer', `${what}: ${report.honestSaid}`);
    }
    result.figures['serve peak RSS MiB'] = report.serverPeakRssMb;
    if (!report.serverAlive) fail(result, 'serve', 'the server died under attack');
    if (report.serverPeakRssMb > SERVER_RSS_MB) {
      fail(result, 'serve', `server peak RSS ${report.serverPeakRssMb} MiB`);
    }
    if (!report.storeUnchanged) fail(result, 'serve', 'the server store changed');
    if (report.integrity !== 'ok') fail(result, 'serve', `integrity_check: ${report.integrity}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  result.seconds = (performance.now() - t0) / 1000;
  return result;
}
