/**
 * certsync's soak suite: attacks every layer and reports figures.
 *
 * Usage: npm run soak -- [--budget quick|full|tiny|<seconds>] [--seed N] [--json out.json]
 *        [--only part,part]
 *        `--quick` (the CI run) is `--budget quick`, which is also the default.
 *
 * Each part runs in its own process (`--part NAME`, started by this runner), under a
 * watchdog, so that a hang or a crash in one part is reported as that part's failure and
 * the others still run. Per part it prints inputs, cuts, kills, frames damaged, failures
 * and peak memory, then a final `N passed, N failed` line (parts), and exits non-zero on
 * any failure. Inputs that broke something are saved as hex under bench/out/soak/.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  budgetNameOf,
  budgetOf,
  emptyResult,
  soakOut,
  type PartContext,
  type PartResult,
} from './part.ts';
import { MemorySampler, Watchdog } from './watchdog.ts';

type PartRun = (ctx: PartContext) => Promise<PartResult>;

/** Share of the fuzz budget (inputs and seconds) each fuzz part gets. */
const FUZZ_SHARES = {
  'fuzz-wire': 0.35,
  'fuzz-session': 0.15,
  'fuzz-links': 0.25,
  'fuzz-pki': 0.2,
  'fuzz-serve': 0.05,
};

function share(ctx: PartContext, name: keyof typeof FUZZ_SHARES): [number, number] {
  const s = FUZZ_SHARES[name];
  const inputs = Math.round(ctx.budget.fuzzInputs * s);
  // One connection per input to a server that serves one peer at a time: slower per input,
  // so more time than its share (at most 500 s, well inside a serve process's test bound).
  if (name === 'fuzz-serve')
    return [inputs, Math.min(500, Math.max(8, ctx.budget.fuzzSeconds / 3))];
  return [inputs, ctx.budget.fuzzSeconds * s];
}

/**
 * Every part, in the order they run. Each loads its module only in its own process, so a
 * part's process starts without the others' imports.
 */
export const PARTS: Readonly<Record<string, PartRun>> = {
  'fuzz-wire': async (ctx) =>
    (await import('./fuzz-wire.ts')).fuzzWire(ctx, ...share(ctx, 'fuzz-wire')),
  'fuzz-session': async (ctx) =>
    (await import('./fuzz-session.ts')).fuzzSession(ctx, ...share(ctx, 'fuzz-session')),
  'fuzz-links': async (ctx) =>
    (await import('./fuzz-links.ts')).fuzzLinks(ctx, ...share(ctx, 'fuzz-links')),
  'fuzz-pki': async (ctx) =>
    (await import('./fuzz-pki.ts')).fuzzPki(ctx, ...share(ctx, 'fuzz-pki')),
  'fuzz-serve': async (ctx) =>
    (await import('./fuzz-serve.ts')).fuzzServe(ctx, ...share(ctx, 'fuzz-serve')),
  noise: async (ctx) => (await import('./noise.ts')).noise(ctx),
  'hostile-peers': async (ctx) => (await import('./hostile-peers.ts')).hostilePeers(ctx),
  'link-faults': async (ctx) => (await import('./link-faults.ts')).linkFaults(ctx),
  crashes: async (ctx) => (await import('./crashes.ts')).crashes(ctx),
};

/**
 * Parts run only when named with `--only`: `watchdog-self-check` feeds one input to a
 * decoder that never returns, to show that the watchdog catches a hang and the runner
 * reports it with the input saved.
 */
const SELF_CHECKS: Readonly<Record<string, PartRun>> = {
  'watchdog-self-check': async (ctx) => {
    const { runFuzz } = await import('./fuzz-harness.ts');
    const target = {
      name: 'endless-decoder',
      seeds: [Uint8Array.of(0xff)],
      run: () => {
        for (;;) ctx.memory.sample();
      },
      accepts: () => false,
    };
    return runFuzz('watchdog-self-check', [target], ctx, 1, 60);
  },
};

/** How long one fuzz input may run before the watchdog calls it a hang, in ms. */
const HANG_MS = 10_000;

function option(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Child mode: runs one part and writes its result as JSON to `resultFile`. */
async function runPart(name: string, budgetText: string, seed: number, resultFile: string) {
  const run = PARTS[name] ?? SELF_CHECKS[name];
  if (!run)
    throw new RangeError(`expected a part of ${Object.keys(PARTS).join(', ')}, got ${name}`);
  const memory = new MemorySampler();
  const dog = new Watchdog(name, HANG_MS, soakOut());
  const t0 = performance.now();
  const ctx: PartContext = {
    budget: budgetOf(budgetText),
    seed,
    memory,
    watch: (target, input) => dog.watch(target, input),
    unwatch: () => dog.unwatch(),
  };
  const result = await run(ctx);
  await dog.stop();
  memory.sample();
  result.peakRssMb = Math.round(memory.peakRss / 2 ** 20);
  result.peakHeapMb = Math.round(memory.peakHeap / 2 ** 20);
  if (result.seconds === 0) result.seconds = (performance.now() - t0) / 1000;
  writeFileSync(resultFile, JSON.stringify(result));
}

/** Parent mode: one child process per part; a child that dies is that part's failure. */
function spawnPart(name: string, budget: string, seed: number, dir: string): Promise<PartResult> {
  const resultFile = join(dir, `${name}.json`);
  const script = fileURLToPath(import.meta.url);
  const args = ['--expose-gc', '--import', 'tsx', script, '--part', name];
  args.push('--budget', budget, '--seed', String(seed), '--result', resultFile);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.on('close', (code, signal) => {
      try {
        resolve(JSON.parse(readFileSync(resultFile, 'utf8')) as PartResult);
      } catch {
        const r = emptyResult(name);
        const hang = /soak-hang (\S+) (\S+)/.exec(stderr);
        r.failures.push({
          target: hang ? hang[1]! : 'process',
          what: hang
            ? `hang: one input ran over ${HANG_MS} ms`
            : `part died (exit ${code}, signal ${signal}): ${stderr.trim().slice(-600)}`,
          ...(hang ? { saved: join(soakOut(), hang[2]!) } : {}),
        });
        resolve(r);
      }
    });
  });
}

function table(results: readonly PartResult[]): string {
  const head = ['part', 'inputs', 'cuts', 'kills', 'damaged', 'failures', 'peak RSS', 'seconds'];
  const rows = results.map((r) => [
    r.part,
    String(r.inputs),
    String(r.cuts),
    String(r.kills),
    String(r.framesDamaged),
    String(r.failures.length + r.moreFailures),
    `${r.peakRssMb} MiB`,
    r.seconds.toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)) + 2);
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('');
  return [line(head), ...rows.map(line)].join('\n');
}

async function main(args: readonly string[]): Promise<number> {
  const budget = budgetNameOf(args);
  const seed = Number(option(args, '--seed') ?? '1');
  if (!Number.isSafeInteger(seed)) throw new RangeError(`expected an integer seed, got ${seed}`);
  budgetOf(budget);
  const part = option(args, '--part');
  if (part) {
    await runPart(part, budget, seed, option(args, '--result') ?? join(tmpdir(), 'soak.json'));
    return 0;
  }
  const only = option(args, '--only')?.split(',');
  const names = only ?? Object.keys(PARTS);
  const unknown = names.filter((n) => !PARTS[n] && !SELF_CHECKS[n]);
  if (unknown.length > 0) throw new RangeError(`expected known parts, got ${unknown.join(', ')}`);
  const dir = mkdtempSync(join(tmpdir(), 'certsync-soak-'));
  const results: PartResult[] = [];
  try {
    for (const name of names) {
      const r = await spawnPart(name, budget, seed, dir);
      results.push(r);
      const n = r.failures.length + r.moreFailures;
      console.log(`${name}: ${n === 0 ? 'ok' : `${n} failure(s)`} in ${r.seconds.toFixed(1)} s`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\nsoak, budget ${budget}, seed ${seed}\n${table(results)}\n`);
  for (const r of results) {
    for (const [k, v] of Object.entries(r.figures)) console.log(`  ${r.part}: ${k} = ${v}`);
    for (const f of r.failures) {
      console.log(`  FAIL ${r.part} ${f.target}: ${f.what}${f.saved ? ` (${f.saved})` : ''}`);
    }
    if (r.moreFailures > 0) console.log(`  FAIL ${r.part}: ${r.moreFailures} more`);
  }
  const failed = results.filter((r) => r.failures.length + r.moreFailures > 0).length;
  const out = option(args, '--json');
  if (out) {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify({ budget, seed, results }, null, 2));
  }
  console.log(`${results.length - failed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
