/** `certsync delete`: removes certificates or CRLs, leaving tombstones for sync. */
import { resolveItem } from '../arguments.ts';
import type { Command } from '../command.ts';
import { shortFingerprint } from '../format.ts';

const deleteCommand: Command = {
  name: 'delete',
  summary: 'delete certificates or CRLs (all named, or none when one is unknown)',
  args: 'FINGERPRINT...',
  positionals: { min: 1 },
  options: {},
  run(ctx) {
    const store = ctx.openStore();
    const items = ctx.positionals.map((arg) => resolveItem(store, arg));
    const deleted = store.transaction(() => {
      const certs = store.certificates.delete(
        items.flatMap((i) => (i.kind === 'cert' ? [i.record.fingerprint] : [])),
      );
      const crls = store.crls.delete(
        items.flatMap((i) => (i.kind === 'crl' ? [i.record.fingerprint] : [])),
      );
      return [
        ...certs.map((r) => ({ kind: 'cert', fingerprint: r.fingerprintHex, name: r.displayName })),
        ...crls.map((r) => ({ kind: 'crl', fingerprint: r.fingerprintHex, name: r.issuer })),
      ];
    });
    return {
      text: deleted.map((d) => `- ${shortFingerprint(d.fingerprint)}  ${d.name}`).join('\n'),
      json: { deleted },
    };
  },
};

export default deleteCommand;
