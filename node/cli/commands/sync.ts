/**
 * `certsync sync`: a full two-way reconcile with a peer that serves. Both stores end with
 * the same content within capacity, deletions included; what both hold is not sent.
 * Certificates that fail an offline check of the own store are not offered.
 */
import { LINK_OPTIONS, peerLine, withPeer } from '../../client/cli-peer.ts';
import { invalidOwnCertificates } from '../../client/validity.ts';
import type { Command } from '../command.ts';

const sync: Command = {
  name: 'sync',
  summary: 'reconcile both stores with a peer: the same content on both sides, within capacity',
  args: '',
  positionals: { min: 0, max: 0 },
  options: {
    ...LINK_OPTIONS,
    unchecked: { type: 'boolean', help: 'also offer certificates that fail the offline check' },
  },
  async run(ctx) {
    const store = ctx.openStore();
    // Invalid certificates are not offered: an offline check (the store's CRLs) first.
    const withheld =
      ctx.options.unchecked === true ? new Set<string>() : await invalidOwnCertificates(store);
    for (const hex of withheld) ctx.warn(`not offered (not valid): ${hex.slice(0, 16)}`);
    return withPeer(
      ctx,
      store,
      'sync',
      async (session) => {
        const before = peerLine(session);
        const r = await session.reconcile();
        const text = [
          before,
          `synced (${r.mode}): ${r.stored} received, ${r.unchanged} already held, ` +
            `${r.sentFull} sent, ${r.sentMeta} updates sent, ${r.sentDeleted} deletions sent`,
          ...(r.refused.length ? [`${r.refused.length} refused here: the store is full`] : []),
          ...(r.evicted.length ? [`${r.evicted.length} evicted here to make room`] : []),
          `now ${store.capacity.state().count} certificates here`,
        ].join('\n');
        return {
          text,
          json: {
            peer: session.peer,
            mode: r.mode,
            received: r.stored,
            unchanged: r.unchanged,
            sent: r.sentFull,
            sentMeta: r.sentMeta,
            sentDeleted: r.sentDeleted,
            refused: r.refused.length,
            evicted: r.evicted.length,
            certificates: store.capacity.state().count,
            withheld: withheld.size,
          },
        };
      },
      withheld,
    );
  },
};

export default sync;
