/**
 * `certsync pull`: fetches chosen certificates from a peer into the own store, as an `add`,
 * an `update` or a `replace-all`. The selection is matched against the peer's listing.
 */
import {
  LINK_OPTIONS,
  SELECT_OPTIONS,
  requireSome,
  selectionFrom,
  withPeer,
} from '../../client/cli-peer.ts';
import { selectEntries } from '../../client/selection.ts';
import type { TransferSummary } from '../../client/peer-session.ts';
import { modeFrom, transferJson, transferText } from '../../client/transfer-report.ts';
import type { Command } from '../command.ts';

/** Most ids one pull request names. */
const BATCH = 512;

const pull: Command = {
  name: 'pull',
  summary: "fetch chosen certificates from a peer's store (add, update or replace-all)",
  args: '[FINGERPRINT...]',
  positionals: { min: 0 },
  options: {
    ...LINK_OPTIONS,
    ...SELECT_OPTIONS,
    mode: { type: 'string', help: 'MODE  add, update or replace-all (default add)' },
  },
  async run(ctx) {
    const store = ctx.openStore();
    const mode = modeFrom(ctx);
    const selection = selectionFrom(ctx);
    return withPeer(ctx, store, 'pull', async (session) => {
      const listed = await session.list('store');
      const chosen = selectEntries(selection, listed);
      requireSome(chosen, "certificate of the peer's");
      // A pull request names at most 512 items (spec/protocol.md, "Limits"). A replace-all
      // is one transfer, so it cannot be split: it takes the first 512 and says so.
      const ids = chosen.map((e) => e.id);
      if (mode === 'replace-all' && ids.length > BATCH) {
        ctx.warn(`replace-all takes at most ${BATCH} certificates; the first ${BATCH} are pulled`);
      }
      const parts: TransferSummary[] = [];
      const last = mode === 'replace-all' ? BATCH : ids.length;
      for (let i = 0; i < last; i += BATCH) {
        parts.push(await session.pull(mode, ids.slice(i, Math.min(last, i + BATCH))));
      }
      const summary: TransferSummary = {
        results: parts.flatMap((p) => p.results),
        aborted: parts.some((p) => p.aborted),
        removed: parts.reduce((n, p) => n + p.removed, 0),
      };
      return {
        text: transferText('received', summary, session.peer.name),
        json: { ...transferJson(summary), mode },
        status: summary.aborted ? 1 : 0,
      };
    });
  },
};

export default pull;
