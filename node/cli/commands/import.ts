/** `certsync import`: stores the certificates and CRLs of files (all or nothing). */
import { importFiles } from '../../import/index.ts';
import { OverflowAlert } from '../../store/index.ts';
import { CertsyncError, exitStatusFor } from '../../../protocol/errors.ts';
import { resolveCertificate, stringsOption } from '../arguments.ts';
import type { Command } from '../command.ts';
import { certificateJson, certificateLine, shortFingerprint } from '../format.ts';

const importCommand: Command = {
  name: 'import',
  summary:
    'import certificates and CRLs from PEM, DER, PKCS#7 (.p7b/.p7c) or signed mail (.eml); all or nothing',
  args: 'FILE...',
  positionals: { min: 1 },
  options: {
    replace: {
      type: 'string',
      multiple: true,
      help: 'FINGERPRINT  when the store is full, replace this certificate (repeatable)',
    },
  },
  async run(ctx) {
    const store = ctx.openStore();
    const victims = stringsOption(ctx, 'replace').map(
      (arg) => resolveCertificate(store, arg).fingerprint,
    );
    const now = Date.now();
    let report;
    try {
      report = await importFiles(store, ctx.positionals, { victims });
    } catch (error) {
      if (error instanceof OverflowAlert) {
        const names = error.candidates
          .slice(0, 5)
          .map((c) => `${shortFingerprint(c.fingerprintHex)} (${c.displayName})`)
          .join(', ');
        const alert = new OverflowAlert(
          `${error.message}; least recently used: ${names}; rerun with --replace FINGERPRINT`,
          error.needed,
          error.candidates,
        );
        if (ctx.json) {
          ctx.writeStdout(
            `${JSON.stringify({ imported: false, needed: error.needed, candidates: error.candidates.map((c) => certificateJson(c, now)) }, null, 2)}\n`,
          );
        }
        throw alert;
      }
      throw error;
    }
    const json = {
      imported: report.imported,
      files: report.files,
      problems: report.problems,
      added: report.added.map((r) => certificateJson(r, now)),
      present: report.present.map((r) => r.fingerprintHex),
      evicted: report.evicted.map((r) => certificateJson(r, now)),
      crlsAdded: report.crlsAdded.map((r) => r.fingerprintHex),
      crlsPresent: report.crlsPresent.map((r) => r.fingerprintHex),
    };
    const [first] = report.problems;
    if (first) {
      // One line for one problem. Several: one line each, then the line that ends the
      // command. Under --json the problems are in the report, and standard error holds only
      // that last line.
      const count = report.problems.length;
      const summary = `nothing imported (${count} problem${count === 1 ? '' : 's'})`;
      if (count > 1) for (const p of report.problems) ctx.warn(`certsync: ${p.message}`);
      const message = ctx.json
        ? `${summary}: ${first.message}`
        : count === 1
          ? `${first.message}; nothing imported`
          : summary;
      return {
        text: '',
        json,
        status: exitStatusFor(first.code),
        error: { code: first.code, message },
      };
    }
    const lines = [
      ...report.files.map(
        (f) =>
          `${f.file}: ${f.certificates} certificate${f.certificates === 1 ? '' : 's'}, ${f.crls} CRL${f.crls === 1 ? '' : 's'}${f.skipped.length ? ` (skipped ${f.skipped.join('; ')})` : ''}`,
      ),
      ...report.added.map((r) => `+ ${certificateLine(r)}`),
      ...report.evicted.map((r) => `- ${certificateLine(r)} (evicted)`),
      `Added ${report.added.length} certificate${report.added.length === 1 ? '' : 's'} (${report.present.length} already present), ${report.crlsAdded.length} CRL${report.crlsAdded.length === 1 ? '' : 's'} (${report.crlsPresent.length} already present)${report.evicted.length ? `; evicted ${report.evicted.length}` : ''}`,
    ];
    if (!report.imported) throw new CertsyncError('internal', 'import stopped without a problem');
    return { text: lines.join('\n'), json };
  },
};

export default importCommand;
