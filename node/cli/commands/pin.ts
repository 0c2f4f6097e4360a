/** `certsync pin` and `certsync label`: the synced user fields of a certificate. */
import { flag, resolveCertificate } from '../arguments.ts';
import { UsageError, type Command } from '../command.ts';
import { certificateJson, certificateLine } from '../format.ts';

const pin: Command = {
  name: 'pin',
  summary: 'pin certificates so the capacity policy never evicts them (--off to unpin)',
  args: 'FINGERPRINT...',
  positionals: { min: 1 },
  options: { off: { type: 'boolean', help: 'unpin instead' } },
  run(ctx) {
    const store = ctx.openStore();
    const pinned = !flag(ctx, 'off');
    const records = store.transaction(() =>
      ctx.positionals.map((arg) =>
        store.certificates.setMeta(resolveCertificate(store, arg).fingerprint, { pinned }),
      ),
    );
    const now = Date.now();
    return {
      text: records
        .map((r) => `${pinned ? 'Pinned' : 'Unpinned'} ${certificateLine(r)}`)
        .join('\n'),
      json: records.map((r) => certificateJson(r, now)),
    };
  },
};

const label: Command = {
  name: 'label',
  summary: 'give a certificate a label, shown as its name (--clear to remove)',
  args: 'FINGERPRINT [TEXT]',
  positionals: { min: 1, max: 2 },
  options: { clear: { type: 'boolean', help: 'remove the label' } },
  run(ctx) {
    const [arg = '', text] = ctx.positionals;
    const clear = flag(ctx, 'clear');
    if (clear === (text !== undefined)) {
      throw new UsageError('label: give either TEXT or --clear');
    }
    if (text !== undefined && (text.trim() === '' || text.length > 200)) {
      throw new UsageError(`label: TEXT must be 1 to 200 characters, got ${text.length}`);
    }
    const store = ctx.openStore();
    const record = store.certificates.setMeta(resolveCertificate(store, arg).fingerprint, {
      label: clear ? null : (text ?? null),
    });
    return {
      text: `Labelled ${certificateLine(record)}`,
      json: certificateJson(record, Date.now()),
    };
  },
};

export default [pin, label];
