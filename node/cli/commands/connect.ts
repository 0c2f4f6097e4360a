/**
 * `certsync connect`: reaches a peer that runs `certsync serve`, pairing first when asked,
 * and does what `--auto` (or the store's `auto` setting) says: nothing but greet (`off`),
 * compare the stores (`list`), reconcile (`sync`), or check the own store and reconcile
 * (`check-and-sync`). Then both sides return to normal.
 */
import { AUTO_MODES, rememberAutoMode, runAuto, storedAutoMode } from '../../client/auto-mode.ts';
import { LINK_OPTIONS, peerLine, withPeer } from '../../client/cli-peer.ts';
import { checkOwnStore, invalidOwnCertificates } from '../../client/validity.ts';
import type { Command } from '../command.ts';
import { autoModeFrom } from './serve.ts';

const connect: Command = {
  name: 'connect',
  summary: 'reach a peer that serves, pair if asked, then do what the auto setting says',
  args: '',
  positionals: { min: 0, max: 0 },
  options: {
    ...LINK_OPTIONS,
    auto: { type: 'string', help: `MODE  ${AUTO_MODES.join(', ')} (default: setting)` },
    remember: { type: 'boolean', help: "save --auto as this store's setting" },
  },
  async run(ctx) {
    const store = ctx.openStore();
    const auto = autoModeFrom(ctx, storedAutoMode(store));
    if (ctx.options.remember === true) rememberAutoMode(store, auto);
    // Before a reconcile, invalid certificates are found so that they are not offered.
    const check = auto === 'check-and-sync' ? await checkOwnStore(store) : undefined;
    const withheld =
      auto === 'sync' || auto === 'check-and-sync'
        ? await invalidOwnCertificates(store, check?.ran ? check.results : undefined)
        : new Set<string>();
    return withPeer(
      ctx,
      store,
      'sync',
      async (session) => {
        const ran = await runAuto(session, auto === 'check-and-sync' ? 'sync' : auto, store);
        const result = { ...ran, mode: auto, ...(check ? { check } : {}) };
        const lines = [peerLine(session)];
        const c = result.comparison;
        if (c) {
          lines.push(
            `mine ${c.mine}, theirs ${c.theirs}, both ${c.both}, ` +
              `only mine ${c.onlyMine.length}, only theirs ${c.onlyTheirs.length}`,
          );
        }
        const r = result.reconcile;
        if (r) {
          lines.push(
            `synced: ${r.stored} received, ${r.sentFull + r.sentMeta} sent, ` +
              `${r.sentDeleted} deletions sent, ${r.refused.length} refused here (${r.mode})`,
          );
        }
        return {
          text: lines.join('\n'),
          json: {
            peer: session.peer,
            auto: result.mode,
            ...(c ? { comparison: { mine: c.mine, theirs: c.theirs, both: c.both } } : {}),
            ...(r
              ? { reconcile: { ...r, evicted: r.evicted.length, refused: r.refused.length } }
              : {}),
            ...(check ? { checked: check.ran, withheld: withheld.size } : {}),
          },
        };
      },
      withheld,
    );
  },
};

export default connect;
