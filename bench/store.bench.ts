/**
 * `node --import tsx bench/store.bench.ts [--quick]`: how fast certificates go into a store,
 * and how long a full store takes to open.
 *
 * Certificates: copies of one ~1 kB RSA-2048 S/MIME leaf made by openssl (cached in
 * bench/.cache/), each with its own serial number, subject and e-mail address
 * (node/testing/certificate-factory.ts): realistic size and structure; signatures are not
 * checked by the store. 100,000 of them (10,000 with --quick).
 *
 * Import: parse with pkijs and insert, in commands of 1,000 certificates each (one
 * transaction per command, as `certsync import` does); parsing and inserting are also timed
 * apart. Then one `importFiles` of a 10,000-certificate PEM file, the whole CLI path. Open:
 * the store file is closed and opened again (schema check, WAL), then counted, listed by
 * subject, and read in full as sync entries. Prints a table, writes bench/out/store.json.
 * Wall-clock figures depend on how busy the machine is; the CPU-time column (this process's
 * user + system time) depends much less on it.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { importFiles } from '../node/import/index.ts';
import { encodePem, parseCertificate, type ParsedCertificate } from '../node/pki/index.ts';
import { Store } from '../node/store/index.ts';
import {
  CertificateFactory,
  makeTemplateCertificate,
} from '../node/testing/certificate-factory.ts';
import { OpensslPki } from '../node/testing/openssl-pki.ts';
import { makeTempDir } from '../node/testing/temp-dir.ts';

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');
const COUNT = quick ? 10_000 : 100_000;
const BATCH = 1_000;
const PEM_FILE_COUNT = quick ? 1_000 : 10_000;
const OPEN_RUNS = 5;

async function templateDer(): Promise<Uint8Array> {
  const cache = join(here, '.cache', 'store-template.der');
  if (existsSync(cache)) return new Uint8Array(readFileSync(cache));
  const pki = await OpensslPki.create();
  try {
    const der = (await makeTemplateCertificate(pki)).der;
    mkdirSync(dirname(cache), { recursive: true });
    writeFileSync(cache, der);
    return der;
  } finally {
    await pki.cleanup();
  }
}

const ms = (t: number): number => Math.round(t * 10) / 10;
const rate = (n: number, t: number): number => Math.round((n / t) * 1000);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? 0;

/** CPU milliseconds (user + system) this process has used so far. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

async function main(): Promise<void> {
  const factory = new CertificateFactory(await templateDer());
  const tmp = makeTempDir('certsync-bench-');
  try {
    const path = join(tmp.dir, 'store.sqlite');
    let store = Store.open(path, { create: true });
    let parseMs = 0;
    let insertMs = 0;
    let parseCpu = 0;
    let insertCpu = 0;
    let bytes = 0;
    for (let start = 0; start < COUNT; start += BATCH) {
      const ders = Array.from({ length: Math.min(BATCH, COUNT - start) }, (_, i) =>
        factory.make(start + i),
      );
      bytes += ders.reduce((s, d) => s + d.length, 0);
      const [t0, c0] = [performance.now(), cpuMs()];
      const parsed: ParsedCertificate[] = ders.map((d) => parseCertificate(d));
      const [t1, c1] = [performance.now(), cpuMs()];
      store.certificates.add(parsed, { source: 'bench' });
      insertMs += performance.now() - t1;
      insertCpu += cpuMs() - c1;
      parseMs += t1 - t0;
      parseCpu += c1 - c0;
    }
    store.close();
    const fileBytes = statSync(path).size;

    const opens: number[] = [];
    const counts: number[] = [];
    for (let i = 0; i < OPEN_RUNS; i++) {
      const t0 = performance.now();
      store = Store.open(path);
      const t1 = performance.now();
      store.capacity.state();
      counts.push(performance.now() - t1);
      opens.push(t1 - t0);
      if (i < OPEN_RUNS - 1) store.close();
    }
    let [t, c] = [performance.now(), cpuMs()];
    const listed = store.certificates.list('subject').length;
    const listMs = performance.now() - t;
    const listCpu = cpuMs() - c;
    [t, c] = [performance.now(), cpuMs()];
    const entries = store.sync.entries().length;
    const entriesMs = performance.now() - t;
    const entriesCpu = cpuMs() - c;
    store.close();

    const pemPath = join(tmp.dir, 'many.pem');
    const pem = Array.from({ length: PEM_FILE_COUNT }, (_, i) =>
      encodePem('CERTIFICATE', factory.make(COUNT + i)),
    ).join('');
    writeFileSync(pemPath, pem);
    store = Store.open(path);
    [t, c] = [performance.now(), cpuMs()];
    const report = await importFiles(store, [pemPath]);
    const fileMs = performance.now() - t;
    const fileCpu = cpuMs() - c;
    store.close();
    if (report.added.length !== PEM_FILE_COUNT || listed !== COUNT || entries !== COUNT) {
      throw new Error('the benchmark store does not hold what was put in');
    }

    const results = {
      certificates: COUNT,
      meanDerBytes: Math.round(bytes / COUNT),
      batch: BATCH,
      importPerSecond: rate(COUNT, parseMs + insertMs),
      parsePerSecond: rate(COUNT, parseMs),
      insertPerSecond: rate(COUNT, insertMs),
      importSeconds: ms((parseMs + insertMs) / 1000),
      importPerCpuSecond: rate(COUNT, parseCpu + insertCpu),
      parsePerCpuSecond: rate(COUNT, parseCpu),
      insertPerCpuSecond: rate(COUNT, insertCpu),
      fileMiB: Math.round((fileBytes / 2 ** 20) * 10) / 10,
      openMs: ms(median(opens)),
      countMs: ms(median(counts)),
      listBySubjectMs: ms(listMs),
      listBySubjectCpuMs: ms(listCpu),
      syncEntriesMs: ms(entriesMs),
      syncEntriesCpuMs: ms(entriesCpu),
      pemFile: {
        certificates: PEM_FILE_COUNT,
        ms: ms(fileMs),
        perSecond: rate(PEM_FILE_COUNT, fileMs),
        perCpuSecond: rate(PEM_FILE_COUNT, fileCpu),
      },
    };
    const n = (x: number): string => x.toLocaleString('en');
    const rows: [string, string, string][] = [
      ['certificates in the store', `${n(COUNT)} (mean ${results.meanDerBytes} B DER)`, ''],
      [
        'import (parse + insert, 1,000 a command)',
        `${n(results.importPerSecond)} /s (${results.importSeconds} s)`,
        `${n(results.importPerCpuSecond)} /s`,
      ],
      ['  parse (pkijs)', `${n(results.parsePerSecond)} /s`, `${n(results.parsePerCpuSecond)} /s`],
      [
        '  insert (SQLite)',
        `${n(results.insertPerSecond)} /s`,
        `${n(results.insertPerCpuSecond)} /s`,
      ],
      [
        `import of one ${n(PEM_FILE_COUNT)}-certificate PEM file`,
        `${n(results.pemFile.perSecond)} /s (${results.pemFile.ms} ms)`,
        `${n(results.pemFile.perCpuSecond)} /s`,
      ],
      ['store file size', `${results.fileMiB} MiB`, ''],
      ['open (median of 5)', `${results.openMs} ms`, ''],
      ['count and capacity', `${results.countMs} ms`, ''],
      [
        'list by subject (all)',
        `${results.listBySubjectMs} ms`,
        `${results.listBySubjectCpuMs} ms`,
      ],
      ['all sync entries', `${results.syncEntriesMs} ms`, `${results.syncEntriesCpuMs} ms`],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    const w2 = Math.max(...rows.map(([, v]) => v.length));
    console.log(`| ${'measure'.padEnd(width)} | ${'wall clock'.padEnd(w2)} | per CPU time |`);
    console.log(`| ${'-'.repeat(width)} | ${'-'.repeat(w2)} | ------------ |`);
    for (const [k, v, cpu] of rows)
      console.log(`| ${k.padEnd(width)} | ${v.padEnd(w2)} | ${cpu} |`);
    mkdirSync(join(here, 'out'), { recursive: true });
    writeFileSync(
      join(here, 'out', 'store.json'),
      `${JSON.stringify({ quick, ...results }, null, 2)}\n`,
    );
  } finally {
    tmp.remove();
  }
}

await main();
