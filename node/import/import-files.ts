/**
 * Importing files into a store, all or nothing per command: every file is read first; if
 * any file or any block in it is bad, nothing at all is stored and every problem is
 * reported; otherwise everything goes in as one transaction. A PEM file with one broken
 * block among good ones therefore imports none of them, and says which block is broken.
 */
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CertificateRecord, CrlRecord, Store } from '../store/index.ts';
import { fileReadReason } from './file-errors.ts';
import {
  MAX_IMPORT_FILE_BYTES,
  readCertificateFile,
  type FileContents,
  type ImportProblem,
} from './read-file.ts';

/** Options of {@link importFiles}. */
export interface ImportOptions {
  /** Certificates to replace when the store is full (see Certificates.add). */
  readonly victims?: readonly Uint8Array[];
}

/** Per-file summary in an {@link ImportReport}. */
export interface FileSummary {
  readonly file: string;
  readonly format: string | undefined;
  readonly certificates: number;
  readonly crls: number;
  readonly skipped: readonly string[];
}

/** What an import did, or why it did nothing. */
export interface ImportReport {
  /** False when problems stopped the import; then the store is unchanged. */
  readonly imported: boolean;
  readonly files: readonly FileSummary[];
  readonly problems: readonly ImportProblem[];
  readonly added: readonly CertificateRecord[];
  /** Already held: re-importing is a no-op. */
  readonly present: readonly CertificateRecord[];
  readonly evicted: readonly CertificateRecord[];
  readonly crlsAdded: readonly CrlRecord[];
  readonly crlsPresent: readonly CrlRecord[];
}

async function readOne(path: string): Promise<FileContents> {
  try {
    // Check the size before reading, so a huge file is refused without filling memory.
    const { size } = await stat(path);
    if (size > MAX_IMPORT_FILE_BYTES) {
      const message = `${path}: ${size} bytes, over the ${MAX_IMPORT_FILE_BYTES}-byte limit`;
      const problem: ImportProblem = { item: path, code: 'bad-input', message };
      return {
        file: path,
        format: undefined,
        certificates: [],
        crls: [],
        skipped: [],
        problems: [problem],
      };
    }
    const bytes = await readFile(path);
    return readCertificateFile(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), path);
  } catch (error) {
    const message = `${path}: ${fileReadReason(error)}`;
    const problem: ImportProblem = { item: path, code: 'bad-input', message };
    return {
      file: path,
      format: undefined,
      certificates: [],
      crls: [],
      skipped: [],
      problems: [problem],
    };
  }
}

/**
 * Reads `paths` and, when every file and item is good, stores all their certificates and
 * CRLs in one transaction (each certificate's source is `file:ABSOLUTE PATH`, or `mail:` for
 * signed mail). Files over {@link MAX_IMPORT_FILE_BYTES} are refused.
 *
 * @throws the capacity errors of Certificates.add (OverflowAlert, `store-full`) and store
 *   errors; the store is unchanged when it throws or reports problems
 */
export async function importFiles(
  store: Store,
  paths: readonly string[],
  options: ImportOptions = {},
): Promise<ImportReport> {
  const contents: FileContents[] = [];
  for (const path of paths) contents.push(await readOne(path));
  const files = contents.map((c) => ({
    file: c.file,
    format: c.format,
    certificates: c.certificates.length,
    crls: c.crls.length,
    skipped: c.skipped,
  }));
  const problems = contents.flatMap((c) => c.problems);
  const empty = { added: [], present: [], evicted: [], crlsAdded: [], crlsPresent: [] };
  if (problems.length) return { imported: false, files, problems, ...empty };
  return store.transaction(() => {
    const added: CertificateRecord[] = [];
    const present: CertificateRecord[] = [];
    const evicted: CertificateRecord[] = [];
    const crlsAdded: CrlRecord[] = [];
    const crlsPresent: CrlRecord[] = [];
    let victims = options.victims ?? [];
    for (const c of contents) {
      const source = `${c.format === 'mail' ? 'mail' : 'file'}:${resolve(c.file)}`;
      const certs = store.certificates.add(c.certificates, { source, victims });
      victims = [];
      added.push(...certs.added);
      // A certificate in two files is added by the first and present in the second.
      for (const p of certs.present) {
        const known = [...added, ...present].some((a) => a.fingerprintHex === p.fingerprintHex);
        if (!known) present.push(p);
      }
      evicted.push(...certs.evicted);
      const crls = store.crls.add(c.crls, source);
      crlsAdded.push(...crls.added);
      crlsPresent.push(...crls.present);
    }
    return { imported: true, files, problems, added, present, evicted, crlsAdded, crlsPresent };
  });
}
