/**
 * Soak part `crashes`: `kill -9` of either side of a two-way sync between two processes
 * (`certsync serve --link tcp` and `certsync sync --link tcp`) at random moments. After each
 * kill both stores must pass the checks of sync-fixture.ts (no partial certificate or
 * metadata record), and a rerun between two fresh processes must complete with every
 * certificate and tombstone accounted for and equal digests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CERTSYNC_BIN, ServeProcess } from '../../node/client/test-processes.ts';
import { seededRandom } from '../../transports/model/seeded-random.ts';
import { pairStores } from './link-faults.ts';
import { emptyResult, fail, soakOut, type PartContext, type PartResult } from './part.ts';
import {
  contents,
  contentsDiff,
  digestOf,
  expectedAfterSync,
  makeCertificates,
  makeStores,
  storeProblems,
} from './sync-fixture.ts';

const CERTIFICATES = 240;
/** How long either process may take to end by itself after its peer was killed, in ms. */
const END_MS = 60_000;
/** A sync's length assumed without a reference run, in ms (process start included). */
const TINY_REFERENCE_MS = 3_000;

function exited(child: ChildProcess, ms: number): Promise<number | 'hung'> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve(child.exitCode ?? -1);
  }
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve('hung'), ms);
    child.once('close', (code) => {
      clearTimeout(t);
      resolve(code ?? -1);
    });
  });
}

/** One sync between two processes (serve holds `b`); `kill` kills one side after `afterMs`. */
export async function syncProcesses(
  dir: string,
  a: string,
  b: string,
  kill?: { side: 'serve' | 'client'; afterMs: number },
) {
  const serve = await ServeProcess.start(['--store', b, '--link', 'tcp', '--port', '0'], dir);
  const started = Date.now();
  const client = spawn(
    process.execPath,
    [CERTSYNC_BIN, 'sync', '--store', a, '--link', 'tcp', '--port', String(serve.port)].concat([
      '--peer',
      'b',
      '--unchecked',
    ]),
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let said = '';
  const keep = (d: Buffer) => (said = (said + d.toString()).slice(-2000));
  client.stdout.on('data', keep);
  client.stderr.on('data', keep);
  let timer: NodeJS.Timeout | undefined;
  if (kill) {
    timer = setTimeout(() => {
      (kill.side === 'serve' ? serve.child : client).kill('SIGKILL');
    }, kill.afterMs);
  }
  const status = await exited(client, END_MS + (kill?.afterMs ?? 0));
  clearTimeout(timer);
  const ms = Date.now() - started;
  if (status === 'hung') client.kill('SIGKILL');
  const served = await serve
    .stop(10_000)
    .catch((e: unknown) => ({ stdout: String(e), stderr: '' }));
  return { status, ms, said, served: `${served.stdout}${served.stderr}`.slice(-2000) };
}

/** Copies a store file with its write-ahead log, so that the copy holds what it holds. */
function copyStore(from: string, to: string): void {
  copyFileSync(from, to);
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(from + suffix)) copyFileSync(from + suffix, to + suffix);
  }
}

/**
 * Keeps, beside the saved inputs, both stores as the kill left them (the rerun's input: a
 * rerun between them reproduces the failure) and after the rerun, and what the rerun printed.
 */
function keepEvidence(
  result: PartResult,
  tag: string,
  run: { a: string; b: string; killedA: string; killedB: string },
  rerun: { said: string; served: string },
): void {
  const base = join(soakOut(), `crashes-${result.kills}`);
  mkdirSync(soakOut(), { recursive: true });
  copyStore(run.killedA, `${base}-client-after-kill.sqlite`);
  copyStore(run.killedB, `${base}-serve-after-kill.sqlite`);
  copyStore(run.a, `${base}-client.sqlite`);
  copyStore(run.b, `${base}-serve.sqlite`);
  writeFileSync(`${base}-rerun.txt`, `${tag}\nsync:\n${rerun.said}\nserve:\n${rerun.served}\n`);
  fail(result, tag, `stores after the kill and after the rerun, and its output, kept as ${base}-*`);
}

/** Runs the part. */
export async function crashes(ctx: PartContext): Promise<PartResult> {
  const result = emptyResult('crashes');
  const t0 = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'certsync-crash-'));
  try {
    const certs = await makeCertificates(CERTIFICATES);
    const expected = expectedAfterSync(certs);
    const template = makeStores(dir, 'template', certs);
    await pairStores(template.a, template.b);
    const fresh = (name: string) => {
      const a = join(dir, `${name}-a.sqlite`);
      const b = join(dir, `${name}-b.sqlite`);
      copyFileSync(template.a, a);
      copyFileSync(template.b, b);
      return { a, b };
    };
    // The tiny budget (the test suite) saves the reference run and guesses its length.
    let reference = { status: 0 as number | 'hung', ms: TINY_REFERENCE_MS };
    if (ctx.budget.name !== 'tiny') {
      const ref = fresh('ref');
      reference = await syncProcesses(dir, ref.a, ref.b);
      result.figures['reference sync ms'] = reference.ms;
      if (reference.status !== 0) fail(result, 'reference', `sync exited ${reference.status}`);
    }
    const random = seededRandom(ctx.seed + 99);
    const killed = { serve: 0, client: 0 };
    for (let i = 0; i < ctx.budget.kills; i++) {
      const run = fresh(`kill${i}`);
      const side = random() < 0.5 ? 'serve' : 'client';
      const afterMs = Math.round(random() * reference.ms);
      const tag = `kill -9 ${side} at ${afterMs} ms`;
      const broken = await syncProcesses(dir, run.a, run.b, { side, afterMs });
      result.kills++;
      killed[side]++;
      if (broken.status === 'hung') {
        fail(result, tag, `the client did not end within ${END_MS} ms of the kill`);
      }
      for (const path of [run.a, run.b]) {
        for (const p of storeProblems(path)) fail(result, tag, `after the kill: ${p}`);
      }
      const held = [run.a, run.b].map((p) => contents(p).live.length).join('/');
      const afterKill = { killedA: `${run.a}.killed`, killedB: `${run.b}.killed` };
      copyStore(run.a, afterKill.killedA);
      copyStore(run.b, afterKill.killedB);
      const again = await syncProcesses(dir, run.a, run.b);
      if (again.status !== 0) fail(result, tag, `the rerun exited ${again.status}`);
      let diverged = false;
      for (const [side, path] of [
        ['client store', run.a],
        ['serve store', run.b],
      ] as const) {
        const diff = contentsDiff(contents(path), expected);
        if (diff) fail(result, tag, `after the rerun, ${side}: ${diff} (held ${held} before)`);
        diverged ||= diff !== null;
      }
      if (digestOf(run.a) !== digestOf(run.b)) {
        fail(result, tag, 'digests differ after rerun');
        diverged = true;
      }
      if (diverged) keepEvidence(result, tag, { ...run, ...afterKill }, again);
      ctx.memory.sample();
      for (const p of [run.a, run.b, afterKill.killedA, afterKill.killedB]) {
        for (const suffix of ['', '-wal', '-shm']) rmSync(p + suffix, { force: true });
      }
    }
    result.figures['serve killed'] = killed.serve;
    result.figures['client killed'] = killed.client;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  result.seconds = (performance.now() - t0) / 1000;
  return result;
}
