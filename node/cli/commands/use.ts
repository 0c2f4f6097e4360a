/** `certsync use`: records a use of a certificate, as a mail client does when it sends. */
import { CertsyncError } from '../../../protocol/errors.ts';
import type { CertificateRecord } from '../../store/index.ts';
import { resolveCertificate } from '../arguments.ts';
import type { Command } from '../command.ts';
import { certificateJson, certificateLine, validityState } from '../format.ts';

const use: Command = {
  name: 'use',
  summary: 'record a use of a certificate, named by fingerprint or by e-mail address',
  args: 'FINGERPRINT|EMAIL',
  positionals: { min: 1, max: 1 },
  options: {},
  run(ctx) {
    const store = ctx.openStore();
    const arg = ctx.positionals[0] ?? '';
    const now = Date.now();
    let target: CertificateRecord;
    if (arg.includes('@')) {
      // As a mail client would: the currently valid end-entity certificate for the address
      // that lasts longest.
      const candidates = store.certificates
        .findByEmail(arg)
        .filter((r) => !r.isCA && validityState(r, now) === 'valid')
        .sort((a, b) => b.notAfter.getTime() - a.notAfter.getTime());
      const [best] = candidates;
      if (!best)
        throw new CertsyncError('not-found', `${arg}: no valid certificate for this address`);
      target = best;
    } else {
      target = resolveCertificate(store, arg);
    }
    const record = store.certificates.recordUse(target.fingerprint);
    return {
      text: `Used ${certificateLine(record)} (${record.useCount} use${record.useCount === 1 ? '' : 's'})`,
      json: certificateJson(record, now),
    };
  },
};

export default use;
