/**
 * `certsync push`: sends chosen certificates of the own store to a peer, as an `add`, an
 * `update` (each replaces an expired or less used certificate of the same person on the
 * peer) or a `replace-all` (the peer keeps only what is sent). Certificates that fail the
 * own validity check are not offered unless `--unchecked`.
 */
import {
  LINK_OPTIONS,
  OVERFLOW_OPTIONS,
  SELECT_OPTIONS,
  requireSome,
  selectionFrom,
  withPeer,
} from '../../client/cli-peer.ts';
import { selectRecords } from '../../client/selection.ts';
import { checkCertificates } from '../../client/validity.ts';
import type { Command } from '../command.ts';
import { modeFrom, transferJson, transferText } from '../../client/transfer-report.ts';

const push: Command = {
  name: 'push',
  summary: 'send chosen certificates to a peer (add, update or replace-all)',
  args: '[FINGERPRINT...]',
  positionals: { min: 0 },
  options: {
    ...LINK_OPTIONS,
    ...SELECT_OPTIONS,
    ...OVERFLOW_OPTIONS,
    mode: { type: 'string', help: 'MODE  add, update or replace-all (default add)' },
    unchecked: { type: 'boolean', help: 'send without checking validity first' },
    offline: { type: 'boolean', help: 'check validity without fetching CRLs or OCSP answers' },
  },
  async run(ctx) {
    const store = ctx.openStore();
    const mode = modeFrom(ctx);
    const chosen = selectRecords(selectionFrom(ctx), store.certificates.list('store'));
    requireSome(chosen, 'certificate');
    let send = chosen;
    const withheld: string[] = [];
    if (ctx.options.unchecked !== true) {
      // Before sending, invalid certificates are not offered (CA certificates travel as they
      // are: the peer needs them as anchors and intermediates).
      const leaves = chosen.filter((r) => !r.isCA);
      const ders = leaves.map((r) => store.certificates.der(r.fingerprint) as Uint8Array);
      const verdicts = await checkCertificates(store, ders, {
        offline: ctx.options.offline === true,
      });
      const bad = new Set(
        verdicts
          .filter((v) => v.status !== 'valid' && v.status !== 'unknown')
          .map((v) => v.fingerprint),
      );
      for (const v of verdicts) {
        if (bad.has(v.fingerprint))
          withheld.push(`${v.fingerprint.slice(0, 16)} ${v.status}: ${v.reason}`);
      }
      send = chosen.filter((r) => !bad.has(r.fingerprintHex));
    }
    for (const line of withheld) ctx.warn(`not sent: ${line}`);
    const ids = send.map((r) => r.fingerprintHex);
    return withPeer(ctx, store, 'push', async (session) => {
      const summary = ids.length
        ? await session.push(ids, mode)
        : { results: [], aborted: false, removed: 0 };
      return {
        text: transferText('sent', summary, session.peer.name),
        json: { ...transferJson(summary), withheld: withheld.length, mode },
        status: summary.aborted ? 1 : 0,
      };
    });
  },
};

export default push;
