/**
 * Soak part `hostile-peers`: scripted hostile peers against the session engine
 * (hostile-engine.ts) and against a real `certsync serve --link tcp` (hostile-serve.ts).
 * A failure is a peer not cut off (or cut off with another code than its script allows),
 * a reply or state that grows with the attack, an honest store that changed, or a server
 * that died or grew past {@link SERVER_RSS_MB}.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_WANTS } from '../../protocol/reconcile/messages.ts';
import { DEFAULT_TIMEOUTS } from '../../protocol/session/types.ts';
import { ENGINE_SCRIPTS, playEngineScript } from './hostile-engine.ts';
import { attackServe } from './hostile-serve.ts';
import { emptyResult, fail, type PartContext, type PartResult } from './part.ts';

/** Largest engine state, in bytes of its JSON form, whatever the peer sends. */
export const MAX_STATE_BYTES = 64 * 1024;
/** Largest resident memory of a server under attack, in MiB. */
export const SERVER_RSS_MB = 400;

/** How long, in ms, a server may take to cut off one hostile connection, per budget. */
function boundMs(budget: string): number {
  if (budget === 'tiny') return 5_000;
  if (budget === 'full') return 30_000;
  return 20_000;
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
    const bound = boundMs(ctx.budget.name);
    // Each stalled connection costs the whole bound, so the server gets at most two rounds.
    const report = await attackServe(dir, Math.min(2, ctx.budget.hostileRounds), bound);
    for (const o of report.outcomes) {
      const tag = `serve ${o.script}`;
      result.inputs++;
      result.figures[`${tag} cut off ms`] = o.cutOff ? o.cutOffMs : `not within ${bound}`;
      result.figures[`${tag} bytes sent`] = o.bytesSent;
      if (!o.cutOff) fail(result, tag, `the server kept the connection past ${bound} ms`);
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
