/** `certsync export`: writes certificates (and CRLs) as PEM, DER or PKCS#7. */
import { rename, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CertsyncError } from '../../../protocol/errors.ts';
import { EXPORT_FORMATS, exportItems, type ExportFormat } from '../../import/index.ts';
import { flag, oneOf, resolveItem, stringOption } from '../arguments.ts';
import type { Command } from '../command.ts';

const exportCommand: Command = {
  name: 'export',
  summary:
    'write certificates and CRLs (all certificates when none is named) as PEM, DER or PKCS#7',
  args: '[FINGERPRINT...]',
  positionals: { min: 0 },
  options: {
    format: { type: 'string', help: 'FORMAT  pem, der, p7b or p7b-pem (default pem)' },
    out: { type: 'string', help: 'FILE  write here instead of standard output' },
    crls: { type: 'boolean', help: 'with no fingerprint given: include every CRL too' },
  },
  async run(ctx) {
    const format = oneOf<ExportFormat>(
      'format',
      stringOption(ctx, 'format') ?? 'pem',
      EXPORT_FORMATS,
    );
    const store = ctx.openStore();
    const certs: Uint8Array[] = [];
    const crls: Uint8Array[] = [];
    if (ctx.positionals.length === 0) {
      for (const r of store.certificates.list('store'))
        certs.push(store.certificates.der(r.fingerprint) as Uint8Array);
      if (flag(ctx, 'crls')) {
        for (const r of store.crls.list()) crls.push(store.crls.der(r.fingerprint) as Uint8Array);
      }
    } else {
      for (const arg of ctx.positionals) {
        const item = resolveItem(store, arg);
        const der =
          item.kind === 'cert'
            ? store.certificates.der(item.record.fingerprint)
            : store.crls.der(item.record.fingerprint);
        if (!der) throw new CertsyncError('not-found', `${arg}: vanished while exporting`);
        (item.kind === 'cert' ? certs : crls).push(der);
      }
    }
    const bytes = exportItems(format, certs, crls);
    const out = stringOption(ctx, 'out');
    const summary = { format, certificates: certs.length, crls: crls.length, bytes: bytes.length };
    if (out) {
      const path = resolve(ctx.cwd, out);
      // Write beside the target and rename, so a failed export never leaves half a file.
      const partial = `${path}.partial-${process.pid}`;
      try {
        await writeFile(partial, bytes);
        await rename(partial, path);
      } catch (error) {
        throw new CertsyncError(
          'bad-input',
          `--out ${out}: cannot write (${(error as Error).message})`,
          { cause: error },
        );
      }
      return {
        text: `Wrote ${certs.length} certificate${certs.length === 1 ? '' : 's'} and ${crls.length} CRL${crls.length === 1 ? '' : 's'} to ${path} (${format})`,
        json: { ...summary, file: path },
      };
    }
    if (ctx.json) {
      const binary = format === 'der' || format === 'p7b';
      const content = Buffer.from(bytes).toString(binary ? 'base64' : 'utf8');
      return { text: '', json: { ...summary, encoding: binary ? 'base64' : 'text', content } };
    }
    ctx.writeStdout(bytes);
    return { text: '', json: summary };
  },
};

export default exportCommand;
