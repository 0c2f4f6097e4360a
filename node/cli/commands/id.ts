/**
 * `certsync id`: this store's identity, as a peer sees it when pairing (the fingerprint of
 * its identity key), and a fresh one-time pairing secret with `--secret`.
 */
import { randomBytes } from 'node:crypto';
import { identityFingerprint } from '../../../protocol/secure/fingerprint.ts';
import { formatPairingSecret, PAIRING_SECRET_LENGTH } from '../../../protocol/secure/pairing.ts';
import { hexOf } from '../../../protocol/wire/hex.ts';
import { storedAutoMode } from '../../client/auto-mode.ts';
import type { Command } from '../command.ts';

const id: Command = {
  name: 'id',
  summary: "show this store's identity fingerprint; --secret prints a one-time pairing secret",
  args: '',
  positionals: { min: 0, max: 0 },
  options: {
    secret: { type: 'boolean', help: 'print a new pairing secret to give both sides' },
  },
  run(ctx) {
    const store = ctx.openStore();
    const identity = store.identity();
    const fingerprint = identityFingerprint(identity.x25519PublicKey);
    const secret =
      ctx.options.secret === true
        ? formatPairingSecret(new Uint8Array(randomBytes(PAIRING_SECRET_LENGTH)))
        : undefined;
    const json = {
      store: hexOf(store.id),
      fingerprint,
      auto: storedAutoMode(store),
      peers: store.peers.list().length,
      ...(secret ? { secret } : {}),
    };
    const lines = [
      `identity ${fingerprint}`,
      `store    ${json.store}`,
      `auto     ${json.auto}`,
      `peers    ${json.peers}`,
    ];
    if (secret) lines.push(`pairing secret (use once, on both sides): ${secret}`);
    return { text: lines.join('\n'), json };
  },
};

export default id;
