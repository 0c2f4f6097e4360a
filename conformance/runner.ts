/**
 * The conformance runner: starts an implementation through its adapter
 * (conformance/README.md), runs every case against it as the peer on the wire, and reports.
 *
 *   npm run conformance [-- --seed N --json out.json --impl "<command>" --mutant NAME
 *                          --only PREFIX --bail --quick]
 *   npm run conformance -- --mutants [--seed N --json out.json]
 *
 * Prints one line per failed case, coverage per spec section, then the summary line
 * `N passed, N failed`; writes the JSON report when asked; exits 1 on any failure.
 */
import { writeFileSync } from 'node:fs';
import { createIdentity } from '../node/keys/identity.ts';
import { OpensslPki } from '../node/testing/openssl-pki.ts';
import { makeTemplateCertificate } from '../node/testing/certificate-factory.ts';
import { allCases } from './cases/index.ts';
import { coverage, type SectionCoverage } from './harness/coverage.ts';
import { CertPool, Context, Rng, type Case, type SpecialCerts } from './harness/context.ts';
import { Impl } from './harness/impl.ts';
import { MUTANTS } from './mutants.ts';

/** certsync's own adapter: the default implementation under test. */
export const CERTSYNC_ADAPTER = 'node --import tsx conformance/adapter/certsync-adapter.ts';

/** Options of one run. */
export interface RunOptions {
  readonly seed: number;
  readonly impl: string;
  readonly mutant?: string;
  /** Only cases whose name starts with this. */
  readonly only?: string;
  /** Stop at the first failure (how the mutant check stays quick). */
  readonly bail?: boolean;
  /** Leave out the large cases (10,000 entries). */
  readonly quick?: boolean;
  /** Run the cases whose names start with one of these first (the mutant hints). */
  readonly first?: readonly string[];
  /** Certificates made earlier, shared by several runs. */
  readonly certificates?: Promise<RunCertificates>;
  readonly cwd: string;
}

/** One case's outcome. */
export interface CaseResult {
  readonly name: string;
  readonly covers: readonly string[];
  readonly passed: boolean;
  readonly ms: number;
  readonly error?: string;
}

/** The JSON report. */
export interface RunReport {
  readonly implementation: string;
  readonly seed: number;
  readonly passed: number;
  readonly failed: number;
  readonly cases: readonly CaseResult[];
  readonly coverage: readonly SectionCoverage[];
}

const DAY = 86_400_000;

/** The certificates every run needs, made by openssl once per run (or per mutant run). */
export interface RunCertificates {
  /** The factory's template (node/testing/certificate-factory.ts). */
  readonly template: Uint8Array;
  readonly special: SpecialCerts;
}

/**
 * Makes the template and the special certificates.
 *
 * @throws Error when openssl fails
 */
export async function makeCertificates(): Promise<RunCertificates> {
  const pki = await OpensslPki.create();
  try {
    return {
      template: (await makeTemplateCertificate(pki)).der,
      special: await makeSpecialCerts(pki),
    };
  } finally {
    await pki.cleanup();
  }
}

/** The certificates of {@link SpecialCerts}, made by openssl. */
async function makeSpecialCerts(pki: OpensslPki): Promise<SpecialCerts> {
  const root = await pki.root('Conformance Root');
  const email = 'twin@example.org';
  const expired = await pki.leaf('Twin Subject', root, {
    email,
    notBefore: new Date(Date.now() - 400 * DAY),
    notAfter: new Date(Date.now() - 30 * DAY),
  });
  const current = await pki.leaf('Twin Subject', root, { email });
  const altEmails = Array.from({ length: 250 }, (_, i) => `mailbox${i}@large.example.org`);
  const large = await pki.leaf('Large Certificate', root, {
    email: 'large@example.org',
    altEmails,
  });
  return { expired: expired.der, current: current.der, large: large.der };
}

/** Per-case wall-clock bound: a hung case fails instead of hanging the run. */
const CASE_TIMEOUT_MS = 90_000;

async function runCase(c: Case, ctx: Context): Promise<CaseResult> {
  const start = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no result in ${CASE_TIMEOUT_MS} ms`)),
        CASE_TIMEOUT_MS,
      );
    });
    await Promise.race([c.run(ctx), late]);
    return { name: c.name, covers: c.covers, passed: true, ms: Date.now() - start };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      name: c.name,
      covers: c.covers,
      passed: false,
      ms: Date.now() - start,
      error: message,
    };
  } finally {
    clearTimeout(timer);
    await ctx.cleanup();
  }
}

/**
 * Runs the suite against one implementation.
 *
 * @throws Error when the adapter cannot be started or the certificates cannot be made
 */
export async function runSuite(o: RunOptions): Promise<RunReport> {
  const { template, special } = await (o.certificates ?? makeCertificates());
  const command = o.mutant ? `${o.impl} --mutant ${o.mutant}` : o.impl;
  const impl = new Impl(command, o.cwd);
  const spawn = (): Impl => new Impl(command, o.cwd);
  const ctx = new Context(
    impl,
    new Rng(o.seed),
    new CertPool(template, special),
    createIdentity(),
    spawn,
  );
  const results: CaseResult[] = [];
  try {
    for (const c of ordered(allCases(), o.first ?? [])) {
      if (o.only && !c.name.startsWith(o.only)) continue;
      if (o.quick && c.large) continue;
      const r = await runCase(c, ctx);
      results.push(r);
      if (!r.passed && o.bail) break;
    }
  } finally {
    await ctx.stop();
    await impl.stop();
  }
  const passed = results.filter((r) => r.passed).length;
  return {
    implementation: command,
    seed: o.seed,
    passed,
    failed: results.length - passed,
    cases: results,
    coverage: coverage(results, o.cwd),
  };
}

/** `cases` with those named by a prefix in `first` moved to the front, in that order. */
function ordered(cases: readonly Case[], first: readonly string[]): Case[] {
  const rank = (c: Case): number => {
    const i = first.findIndex((p) => c.name.startsWith(p));
    return i < 0 ? first.length : i;
  };
  return cases
    .map((c, i) => ({ c, i }))
    .sort((a, b) => rank(a.c) - rank(b.c) || a.i - b.i)
    .map((x) => x.c);
}

/** What the suite did against one mutant. */
export interface MutantOutcome {
  readonly mutant: string;
  readonly breaks: string;
  readonly caught: boolean;
  /** The first case that failed against it. */
  readonly caughtBy: string | null;
}

/**
 * Runs the suite (quick, stopping at the first failure) against every mutant of certsync's
 * adapter, `parallel` at a time. A mutant is caught when at least one case fails.
 */
export async function runMutants(
  o: Omit<RunOptions, 'mutant' | 'bail' | 'quick'>,
  parallel = 3,
): Promise<MutantOutcome[]> {
  const queue = [...MUTANTS];
  const out: MutantOutcome[] = [];
  const certificates = o.certificates ?? makeCertificates();
  const worker = async (): Promise<void> => {
    for (let m = queue.shift(); m; m = queue.shift()) {
      const hints = m.caughtBy ?? [];
      const r = await runSuite({
        ...o,
        mutant: m.name,
        bail: true,
        quick: true,
        first: hints,
        certificates,
      });
      const first = r.cases.find((c) => !c.passed);
      out.push({
        mutant: m.name,
        breaks: m.breaks,
        caught: !!first,
        caughtBy: first?.name ?? null,
      });
    }
  };
  await Promise.all(Array.from({ length: parallel }, () => worker()));
  return out.sort((a, b) => (a.mutant < b.mutant ? -1 : 1));
}

function argValue(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const seed = Number(argValue(args, '--seed') ?? Date.now() % 1_000_000);
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`expected --seed as a non-negative integer, got ${String(seed)}`);
  }
  if (args.includes('--mutants')) {
    const outcomes = await runMutants({ seed, impl: CERTSYNC_ADAPTER, cwd: process.cwd() });
    for (const m of outcomes) {
      const verdict = m.caught ? `caught by ${m.caughtBy}` : 'NOT CAUGHT';
      process.stdout.write(`${m.mutant}: ${verdict} (breaks ${m.breaks})\n`);
    }
    const caught = outcomes.filter((m) => m.caught).length;
    const json = argValue(args, '--json');
    if (json) writeFileSync(json, `${JSON.stringify({ seed, mutants: outcomes }, null, 2)}\n`);
    process.stdout.write(`caught ${caught} of ${outcomes.length} mutants\n`);
    process.exitCode = caught === outcomes.length ? 0 : 1;
    return;
  }
  const mutant = argValue(args, '--mutant');
  const only = argValue(args, '--only');
  const report = await runSuite({
    seed,
    impl: argValue(args, '--impl') ?? CERTSYNC_ADAPTER,
    cwd: process.cwd(),
    bail: args.includes('--bail'),
    quick: args.includes('--quick'),
    ...(mutant ? { mutant } : {}),
    ...(only ? { only } : {}),
  });
  for (const r of report.cases) {
    if (!r.passed) process.stdout.write(`FAIL ${r.name} [${r.covers.join(' ')}]: ${r.error}\n`);
  }
  process.stdout.write(`seed ${seed}; coverage by spec section:\n`);
  for (const s of report.coverage) {
    const mark = s.cases > 0 ? String(s.cases).padStart(5) : s.withoutCases ? '    -' : ' none';
    const why = s.cases === 0 && s.withoutCases ? ` (${s.withoutCases})` : '';
    process.stdout.write(`${mark}  ${s.section}${why}\n`);
  }
  const json = argValue(args, '--json');
  if (json) writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${report.passed} passed, ${report.failed} failed\n`);
  process.exitCode = report.failed > 0 ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main()
    .catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`conformance: ${message}\n`);
      process.exitCode = 2;
    })
    // A case that outlived its time limit may still hold a socket: do not wait for it.
    .finally(() => process.stdout.write('', () => process.exit()));
}
