/**
 * `certsync delete`: removes certificates or CRLs, leaving tombstones for sync, and in the
 * same transaction drops the old tombstones that the compaction rule lets go
 * (node/store/SCHEMA.md, "tombstones").
 */
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
    const { deleted, compacted } = store.transaction(() => {
      const certs = store.certificates.delete(
        items.flatMap((i) => (i.kind === 'cert' ? [i.record.fingerprint] : [])),
      );
      const crls = store.crls.delete(
        items.flatMap((i) => (i.kind === 'crl' ? [i.record.fingerprint] : [])),
      );
      return {
        deleted: [
          ...certs.map((r) => ({
            kind: 'cert',
            fingerprint: r.fingerprintHex,
            name: r.displayName,
          })),
          ...crls.map((r) => ({ kind: 'crl', fingerprint: r.fingerprintHex, name: r.issuer })),
        ],
        compacted: store.sync.compactTombstones(),
      };
    });
    const lines = deleted.map((d) => `- ${shortFingerprint(d.fingerprint)}  ${d.name}`);
    if (compacted > 0) {
      lines.push(
        `Dropped ${compacted} old tombstone${compacted === 1 ? '' : 's'} that every paired peer has received`,
      );
    }
    return { text: lines.join('\n'), json: { deleted, compacted } };
  },
};

export default deleteCommand;
