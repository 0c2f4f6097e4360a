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
import type { Command } from '../command.ts';
import { modeFrom, transferJson, transferText } from '../../client/transfer-report.ts';

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
      const summary = await session.pull(
        mode,
        chosen.map((e) => e.id),
      );
      return {
        text: transferText('received', summary, session.peer.name),
        json: { ...transferJson(summary), mode },
        status: summary.aborted ? 1 : 0,
      };
    });
  },
};

export default pull;
