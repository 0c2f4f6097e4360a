/**
 * `certsync verify`: the validator on its own, without a store. Checks the certificate in
 * FILE at `--at` (default now) against the anchors in `--trust` files, with intermediates
 * from `--untrusted` files and CRLs from `--crl` files, fetching CRLs and OCSP answers over
 * HTTP unless `--offline`. Exit status 0 for a valid certificate, the status of
 * `invalid-certificate` otherwise. A file that does not read whole (a broken PEM block among
 * good ones) stops the command with the problem's own status, naming the file and block.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CertsyncError, exitStatusFor } from '../../../protocol/errors.ts';
import { fileReadReason, readCertificateFile } from '../../import/index.ts';
import { httpRevocationFetcher, validate } from '../../validate/index.ts';
import { stringOption, stringsOption } from '../arguments.ts';
import { UsageError, type Command, type CommandContext } from '../command.ts';

/**
 * The certificates and CRLs of every file given with `--option`.
 *
 * @throws CertsyncError `bad-input` for a file that cannot be read, and the code of the
 *   first problem (naming the file and block) for one that does not read whole: a trust
 *   anchor is never taken from a file that is partly broken
 */
function readAll(ctx: CommandContext, option: string) {
  const certs: Uint8Array[] = [];
  const crls: Uint8Array[] = [];
  const label = option === 'target' ? '' : `--${option} `;
  for (const file of stringsOption(ctx, option)) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(resolve(ctx.cwd, file)));
    } catch (cause) {
      throw new CertsyncError('bad-input', `${label}${file}: ${fileReadReason(cause)}`, { cause });
    }
    const contents = readCertificateFile(bytes, file);
    const [problem] = contents.problems;
    if (problem) throw new CertsyncError(problem.code, `${label}${problem.message}`);
    certs.push(...contents.certificates.map((c) => c.der));
    crls.push(...contents.crls.map((c) => c.der));
  }
  return { certs, crls };
}

const verify: Command = {
  name: 'verify',
  summary: 'validate one certificate file against given trust anchors, at a given time',
  args: 'FILE',
  positionals: { min: 1, max: 1 },
  options: {
    at: { type: 'string', help: 'TIME  validate as of this time (ISO 8601; default now)' },
    trust: { type: 'string', multiple: true, help: 'FILE  trust anchors (PEM, DER, PKCS#7)' },
    untrusted: { type: 'string', multiple: true, help: 'FILE  intermediates that may help' },
    crl: { type: 'string', multiple: true, help: 'FILE  CRLs to use offline' },
    email: { type: 'string', help: 'ADDRESS  the address the certificate must be for' },
    offline: { type: 'boolean', help: 'no CRL or OCSP fetches' },
    'hard-fail': { type: 'boolean', help: 'fail when revocation cannot be decided' },
  },
  async run(ctx) {
    const file = ctx.positionals[0] as string;
    const target = readAll({ ...ctx, options: { ...ctx.options, target: file } }, 'target');
    const leaf = target.certs[0];
    if (!leaf) throw new CertsyncError('bad-certificate', `${file}: no certificate in it`);
    const trust = readAll(ctx, 'trust');
    if (trust.certs.length === 0)
      throw new UsageError('verify: give the anchors with --trust FILE');
    const untrusted = readAll(ctx, 'untrusted');
    const crls = readAll(ctx, 'crl');
    const atText = stringOption(ctx, 'at');
    const at = atText === undefined ? new Date() : new Date(atText);
    if (Number.isNaN(at.getTime())) throw new UsageError(`--at: not a time: ${atText}`);
    const email = stringOption(ctx, 'email');
    const result = await validate(leaf, {
      anchors: trust.certs,
      intermediates: [...untrusted.certs, ...target.certs.slice(1)],
      crls: [...crls.crls, ...trust.crls, ...untrusted.crls],
      at,
      ...(email ? { email } : {}),
      ...(ctx.options.offline === true ? {} : { fetcher: httpRevocationFetcher() }),
      revocation: ctx.options['hard-fail'] === true ? 'hard-fail' : 'soft-fail',
    });
    const lines = [
      `${result.valid ? 'valid' : 'NOT valid'} (${result.code}): ${result.reason}`,
      ...result.path.map(
        (p, i) =>
          `  ${i === 0 ? 'certificate' : p.anchor ? 'anchor     ' : 'issuer     '} ${p.subject}`,
      ),
      ...result.revocation.map(
        (r) =>
          `  revocation ${r.fingerprint.slice(0, 16)}: ${r.status}${r.source ? ` (${r.source})` : ''}`,
      ),
    ];
    return {
      text: lines.join('\n'),
      json: { ...result, at: at.toISOString() },
      status: result.valid ? 0 : exitStatusFor('invalid-certificate'),
      ...(result.valid
        ? {}
        : { error: { code: 'invalid-certificate', message: `${file}: ${result.reason}` } }),
    };
  },
};

export default verify;
