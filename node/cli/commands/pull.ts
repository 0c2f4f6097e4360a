/**
 * `certsync pull`: fetches chosen certificates from a peer into the own store, as an `add`,
 * an `update` or a `replace-all`. The selection is matched against the peer's listing.
 *
 * `pull --private-key FINGERPRINT` instead fetches the private key of that one certificate
 * of the peer's (and the certificate, when missing here), and stores it encrypted under this
 * store's passphrase; the peer offers keys only when its user allows sending them
 * (node/client/private-key-transfer.ts).
 */
import {
  LINK_OPTIONS,
  PRIVATE_KEY_OPTIONS,
  SELECT_OPTIONS,
  privateKeyFrom,
  requireSome,
  selectionFrom,
  withPeer,
} from '../../client/cli-peer.ts';
import { pullPrivateKey } from '../../client/private-key-transfer.ts';
import { selectEntries } from '../../client/selection.ts';
import { SessionKeys } from '../../client/session-keys.ts';
import type { TransferSummary } from '../../client/peer-session.ts';
import { modeFrom, transferJson, transferText } from '../../client/transfer-report.ts';
import { checkPassphrase } from '../../keys/private-key-ring.ts';
import type { Store } from '../../store/index.ts';
import type { Command, CommandContext, CommandOutput } from '../command.ts';
import { storePassphrase } from '../passphrase.ts';

/** Fetches the private key of the peer's certificate `prefix` names. */
async function pullKey(ctx: CommandContext, store: Store, prefix: string): Promise<CommandOutput> {
  // Checked before the link, so that a wrong passphrase is told at once.
  const passphrase = await storePassphrase(ctx, 'to store the private key', {
    confirm: store.privateKeys.list().length === 0,
  });
  await checkPassphrase(store, passphrase);
  const keys = new SessionKeys(store);
  return withPeer(
    ctx,
    store,
    'pull',
    async (session) => {
      const got = await pullPrivateKey(session, keys, store, prefix, passphrase);
      const done = got.result.outcome === 'stored' ? 'Stored' : 'Already held';
      return {
        text: `${done} the private key of ${got.certificate.slice(0, 16)} from ${session.peer.name}, encrypted.`,
        json: { privateKey: { certificate: got.certificate, outcome: got.result.outcome } },
      };
    },
    undefined,
    keys,
  );
}

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
    ...PRIVATE_KEY_OPTIONS,
  },
  async run(ctx) {
    const prefix = privateKeyFrom(ctx, ['private-key', 'passphrase-file']);
    const store = ctx.openStore();
    if (prefix !== undefined) return pullKey(ctx, store, prefix);
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
