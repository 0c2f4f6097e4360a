import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CertsyncError } from '../../protocol/errors.ts';
import { makeMutator, runFuzz } from './fuzz-harness.ts';
import { budgetNameOf, budgetOf, type PartResult } from './part.ts';
import { MemorySampler } from './watchdog.ts';
import { seededRandom } from '../../transports/model/seeded-random.ts';

const RUNNER = fileURLToPath(new URL('./run.ts', import.meta.url));

let out: string;
before(() => {
  out = mkdtempSync(join(tmpdir(), 'certsync-soak-test-'));
});
after(() => rmSync(out, { recursive: true, force: true }));

function runSoak(args: readonly string[]): Promise<{ status: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', RUNNER, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, CERTSYNC_SOAK_OUT: join(out, 'inputs') },
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout });
    });
  });
}

/** CI runs the quick budget (`npm run soak -- --quick`, about 4 minutes); a local run, tiny. */
const BUDGET = process.env.CI === 'true' ? 'quick' : 'tiny';

test(
  `every soak part runs at the ${BUDGET} budget, reports its figures, and finds no defect`,
  { timeout: 660_000 },
  async () => {
    const json = join(out, `${BUDGET}.json`);
    const r = await runSoak(['--budget', BUDGET, '--seed', '3', '--json', json]);
    const report = JSON.parse(readFileSync(json, 'utf8')) as { results: PartResult[] };
    const parts = new Map(report.results.map((p) => [p.part, p]));
    assert.deepEqual(
      [...parts.keys()],
      [
        'fuzz-wire',
        'fuzz-session',
        'fuzz-links',
        'fuzz-pki',
        'fuzz-serve',
        'noise',
        'hostile-peers',
        'link-faults',
        'crashes',
      ],
    );
    for (const name of ['fuzz-wire', 'fuzz-session', 'fuzz-links', 'fuzz-pki', 'fuzz-serve']) {
      assert.ok(parts.get(name)!.inputs > 100, `${name} fed inputs`);
    }
    assert.ok(parts.get('noise')!.inputs > 0);
    assert.ok(parts.get('hostile-peers')!.inputs > 0);
    assert.ok(parts.get('link-faults')!.cuts >= 3);
    assert.equal(parts.get('crashes')!.kills, budgetOf(BUDGET).kills);
    assert.ok(parts.get('noise')!.framesDamaged > 0, 'noise damaged some line frames');
    for (const p of report.results) assert.ok(p.peakRssMb > 0, `${p.part} sampled memory`);
    const failures = report.results.flatMap((p) =>
      p.failures.map((f) => `${p.part} ${f.target}: ${f.what}`),
    );
    assert.deepEqual(failures, []);
    assert.match(r.stdout, /^9 passed, 0 failed$/m);
    assert.equal(r.status, 0);
  },
);

test(
  'a decoder that never returns is caught by the watchdog, reported and its input saved',
  {
    timeout: 120_000,
  },
  async () => {
    const json = join(out, 'hang.json');
    const r = await runSoak(['--only', 'watchdog-self-check', '--budget', 'tiny', '--json', json]);
    assert.equal(r.status, 1);
    const [part] = (JSON.parse(readFileSync(json, 'utf8')) as { results: PartResult[] }).results;
    assert.equal(part?.failures[0]?.target, 'endless-decoder');
    assert.match(part.failures[0].what, /^hang/);
    const saved = part.failures[0].saved!;
    assert.ok(existsSync(saved), saved);
    assert.equal(readFileSync(saved, 'utf8').trim().length % 2, 0, 'the input is saved as hex');
    assert.match(r.stdout, /^0 passed, 1 failed$/m);
  },
);

test('the fuzz loop reports a foreign throw with its input and accepts its own error', async () => {
  const ctx = {
    budget: budgetOf('tiny'),
    seed: 5,
    memory: new MemorySampler(),
    watch: () => undefined,
    unwatch: () => undefined,
  };
  process.env.CERTSYNC_SOAK_OUT = join(out, 'loop');
  try {
    const result = await runFuzz(
      'loop',
      [
        {
          name: 'picky',
          seeds: [Uint8Array.of(1, 2, 3, 4)],
          run: (b) => {
            if (b[0] === 1) throw new CertsyncError('malformed-message', 'starts with 1');
            throw new TypeError('a foreign error');
          },
          accepts: (e) => e instanceof CertsyncError,
        },
      ],
      ctx,
      400,
      30,
    );
    assert.equal(result.inputs, 400);
    const foreign = Number(result.figures['picky failures']);
    assert.ok(foreign > 0 && foreign < 400, `${foreign} foreign throws among 400 inputs`);
    assert.match(result.failures[0]!.what, /^TypeError: a foreign error/);
    assert.ok(existsSync(result.failures[0]!.saved!));
  } finally {
    delete process.env.CERTSYNC_SOAK_OUT;
  }
});

test('mutations are the same for the same seed, and budgets reject what they do not know', () => {
  const seed = Uint8Array.from({ length: 64 }, (_, i) => i);
  const run = (s: number) => {
    const m = makeMutator(seededRandom(s));
    return Array.from({ length: 50 }, () => Buffer.from(m(seed, seed)).toString('hex'));
  };
  assert.deepEqual(run(9), run(9));
  assert.notDeepEqual(run(9), run(10));
  assert.equal(budgetOf('full').fuzzInputs, 1_000_000);
  assert.equal(budgetNameOf(['--quick']), 'quick');
  assert.equal(budgetNameOf([]), 'quick');
  assert.equal(budgetNameOf(['--budget', 'full', '--json', 'x.json']), 'full');
  assert.throws(() => budgetNameOf(['--quik']), /expected one of .*got --quik/);
  assert.throws(() => budgetNameOf(['--quick', '--budget', 'full']), RangeError);
  assert.throws(() => budgetNameOf(['--budget']), RangeError);
  assert.equal(budgetOf('30').fuzzSeconds, 30);
  assert.throws(() => budgetOf('forever'), RangeError);
});
