/** `certsync show`: every field of one certificate or CRL. */
import { toHex } from '../../pki/index.ts';
import { resolveItem } from '../arguments.ts';
import type { Command } from '../command.ts';
import { certificateJson, crlJson, validityState } from '../format.ts';

const show: Command = {
  name: 'show',
  summary: 'show one certificate or CRL in full',
  args: 'FINGERPRINT',
  positionals: { min: 1, max: 1 },
  options: {},
  run(ctx) {
    const store = ctx.openStore();
    const now = Date.now();
    const item = resolveItem(store, ctx.positionals[0] ?? '');
    if (item.kind === 'crl') {
      const r = item.record;
      const revoked = store.crls.revokedSerials(r.fingerprint);
      const lines = [
        `CRL          ${r.fingerprintHex}`,
        `issuer       ${r.issuer}`,
        `this update  ${r.thisUpdate.toISOString()}`,
        `next update  ${r.nextUpdate?.toISOString() ?? '-'}`,
        `revoked      ${revoked.length}${revoked.length ? `: ${revoked.map((s) => s.serialHex).join(' ')}` : ''}`,
        `added        ${r.addedAt.toISOString()} from ${r.source}`,
      ];
      return {
        text: lines.join('\n'),
        json: { kind: 'crl', ...crlJson(r), revokedSerials: revoked.map((s) => s.serialHex) },
      };
    }
    const r = item.record;
    const key = `${r.keyAlgorithm}${r.keySize ? ` ${r.keySize}` : ''}`;
    const lines = [
      `certificate  ${r.fingerprintHex}`,
      `name         ${r.displayName}${r.contactName ? ' (contact)' : ''}`,
      `subject      ${r.subject}`,
      `issuer       ${r.issuer}`,
      `serial       ${r.serialHex}`,
      `valid        ${r.notBefore.toISOString()} to ${r.notAfter.toISOString()} (${validityState(r, now)})`,
      `e-mail       ${r.emails.join(', ') || '-'}`,
      `key          ${key}${r.isCA ? ', CA' : ''}`,
      `added        ${r.addedAt.toISOString()} from ${r.source}`,
      `used         ${r.useCount} time${r.useCount === 1 ? '' : 's'}${r.lastUsedAt ? `, last ${r.lastUsedAt.toISOString()}` : ''}`,
      `label        ${r.label ?? '-'}`,
      `pinned       ${r.pinned ? 'yes' : 'no'}`,
      `sync stamp   clock ${r.clock}, origin ${toHex(r.origin)}`,
    ];
    return { text: lines.join('\n'), json: { kind: 'cert', ...certificateJson(r, now) } };
  },
};

export default show;
