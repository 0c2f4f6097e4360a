import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exitStatusFor } from '../../protocol/errors.ts';
import { buildStandardPki, type StandardPki } from '../testing/openssl-pki.ts';
import { makeTempDir } from '../testing/temp-dir.ts';

// The installed entry point, `node bin/certsync.js`, in real child processes: what a user or
// a script sees, exit statuses and standard error included.

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'certsync.js');

let pki: StandardPki;
let tmp: ReturnType<typeof makeTempDir>;

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function certsync(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: tmp.dir,
      env: { ...process.env, HOME: tmp.dir, CERTSYNC_STORE: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    // Generous: the machine may be shared; the bound only stops a hung child.
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

before(async () => {
  pki = await buildStandardPki();
  tmp = makeTempDir();
});

after(async () => {
  tmp.remove();
  await pki.cleanup();
});

describe('bin/certsync.js', () => {
  it('creates a store, imports, lists as JSON and exports the bytes it was given', async () => {
    const env = { CERTSYNC_STORE: join(tmp.dir, 'store.sqlite') };
    const init = await certsync(['init'], env);
    assert.equal(init.status, 0, init.stderr);
    assert.match(init.stdout, /^Created store: /);
    const imp = await certsync(['import', pki.signedMail.path, pki.carol.certPath], env);
    assert.equal(imp.status, 0, imp.stderr);
    assert.match(imp.stdout, /Added 3 certificates/);
    const list = await certsync(['list', '--order', 'subject', '--json'], env);
    const rows = JSON.parse(list.stdout) as {
      name: string;
      validity: string;
      fingerprint: string;
    }[];
    assert.deepEqual(
      rows.map((r) => [r.name, r.validity]),
      [
        ['Alice Example', 'valid'],
        ['Carol Example', 'expired'],
        ['certsync Test Intermediate', 'valid'],
      ],
    );
    const exported = await certsync(['export', rows[1]?.fingerprint.slice(0, 12) ?? ''], env);
    assert.equal(exported.stdout, pki.carol.pem);
  });

  it('exits with the error code of a bad file and says what was wrong in one line', async () => {
    const store = join(tmp.dir, 'bad-input.sqlite');
    await certsync(['init', '--store', store]);
    const junk = join(tmp.dir, 'junk.der');
    writeFileSync(junk, pki.alice.der.subarray(0, 50));
    const r = await certsync(['import', junk, '--store', store]);
    assert.equal(r.status, exitStatusFor('bad-certificate'));
    assert.deepEqual(r.stderr.trimEnd().split('\n'), [
      `certsync: ${junk}: truncated (the DER ends before its stated length); nothing imported`,
    ]);
    const json = await certsync(['show', 'ffff', '--store', store, '--json']);
    assert.equal(json.status, exitStatusFor('not-found'));
    assert.deepEqual(JSON.parse(json.stderr), {
      error: { code: 'not-found', message: 'ffff: no certificate or CRL has this fingerprint' },
    });
  });

  it('exits with status 2 for a usage mistake', async () => {
    const r = await certsync(['list', '--order']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^certsync: list: Option '--order <value>' argument missing\n$/);
  });
});
