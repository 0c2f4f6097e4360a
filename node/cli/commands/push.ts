/**
 * `certsync push`: sends chosen certificates of the own store to a peer, as an `add`, an
 * `update` (each replaces an expired or less used certificate of the same person on the
 * peer) or a `replace-all` (the peer keeps only what is sent). Certificates that fail the
 * own validity check are not offered unless `--unchecked`.
 *
 * `push --private-key FINGERPRINT` instead offers the private key of that one certificate,
 * and nothing else; the peer takes it only when its user allows receiving keys
 * (node/client/private-key-transfer.ts).
 */
import {
  LINK_OPTIONS,
  OVERFLOW_OPTIONS,
  PRIVATE_KEY_OPTIONS,
  SELECT_OPTIONS,
  privateKeyFrom,
  requireSome,
  selectionFrom,
  withPeer,
} from '../../client/cli-peer.ts';
import { OFFER_WAIT_MS, offerPrivateKey } from '../../client/private-key-transfer.ts';
import { SessionKeys } from '../../client/session-keys.ts';
import { keyMatchesCertificate, openPrivateKey } from '../../keys/private-key-ring.ts';
import type { Store } from '../../store/index.ts';
import { CertsyncError } from '../../../protocol/errors.ts';
import { selectRecords } from '../../client/selection.ts';
import { modeFrom, transferJson, transferText } from '../../client/transfer-report.ts';
import { checkCertificates } from '../../client/validity.ts';
import { UsageError, type Command, type CommandContext, type CommandOutput } from '../command.ts';
import { storePassphrase } from '../passphrase.ts';
import { resolveKey } from './key.ts';

/** `--wait S` in ms, for `--private-key`. */
function waitFrom(ctx: CommandContext): number {
  const v = ctx.options.wait;
  if (v === undefined) return OFFER_WAIT_MS;
  if (typeof v !== 'string' || !/^\d+(\.\d+)?$/.test(v) || Number(v) <= 0) {
    throw new UsageError(`--wait: expected seconds above 0, got ${String(v)}`);
  }
  return Math.round(Number(v) * 1000);
}

/** Offers the private key of one certificate and waits for the peer to take it. */
async function pushKey(ctx: CommandContext, store: Store, prefix: string): Promise<CommandOutput> {
  const waitMs = waitFrom(ctx);
  const key = resolveKey(store, prefix);
  const certificate = key.certificate;
  if (!certificate) {
    throw new CertsyncError(
      'not-found',
      `${prefix}: the key's certificate is no longer in the store`,
    );
  }
  // Opened before the link, so that a wrong passphrase is told at once.
  const passphrase = await storePassphrase(ctx, 'to open the private key');
  const pkcs8 = await openPrivateKey(store, certificate.fingerprint, passphrase);
  const der = store.certificates.der(certificate.fingerprint) as Uint8Array;
  if (!keyMatchesCertificate(pkcs8, der)) {
    throw new CertsyncError('internal', `the key stored for ${key.fingerprint} is not its key`);
  }
  const keys = new SessionKeys(store, [{ certificate, pkcs8 }]);
  return withPeer(
    ctx,
    store,
    'push',
    async (session) => {
      const sent = await offerPrivateKey(session, keys, certificate.fingerprintHex, waitMs);
      return {
        text: `${session.peer.name} ${sent.result.outcome === 'stored' ? 'stored' : 'already held'} the private key of ${certificate.displayName} ${certificate.fingerprintHex.slice(0, 16)}`,
        json: { privateKey: { certificate: sent.certificate, outcome: sent.result.outcome } },
      };
    },
    undefined,
    keys,
  );
}
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
    ...PRIVATE_KEY_OPTIONS,
    wait: {
      type: 'string',
      help: `S  with --private-key: how long the peer has to ask for the key (default ${OFFER_WAIT_MS / 1000})`,
    },
  },
  async run(ctx) {
    const prefix = privateKeyFrom(ctx, ['private-key', 'passphrase-file', 'wait']);
    if (prefix === undefined && ctx.options.wait !== undefined) {
      throw new UsageError('--wait goes with --private-key FINGERPRINT');
    }
    const store = ctx.openStore();
    if (prefix !== undefined) return pushKey(ctx, store, prefix);
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
