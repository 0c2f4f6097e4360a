import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { exitStatusFor, type ErrorCode } from '../../protocol/errors.ts';
import { ASN1_TRAP_MESSAGE, ASN1_TRAPS } from '../testing/asn1-traps.ts';
import { parseCertificate } from '../pki/index.ts';
import { Store } from '../store/index.ts';
import { buildStandardPki, type StandardPki } from '../testing/openssl-pki.ts';
import { makeTempDir } from '../testing/temp-dir.ts';
import { main } from './main.ts';

// The commands run in this process through main(), with their output captured; bin.test.ts
// runs the installed entry point in child processes.

const ROOT = join(import.meta.dirname, '..', '..');
const DAY = 86_400_000;

let pki: StandardPki;
let tmp: ReturnType<typeof makeTempDir>;
let n = 0;

interface Run {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function certsync(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const status = await main(args, {
    stdout: (d) => (stdout += typeof d === 'string' ? d : Buffer.from(d).toString('latin1')),
    stderr: (d) => (stderr += d),
    env: { HOME: tmp.dir, ...env },
    cwd: tmp.dir,
  });
  return { status, stdout, stderr };
}

function file(name: string, content: string | Uint8Array): string {
  const path = join(tmp.dir, name);
  writeFileSync(path, content);
  return path;
}

function newStorePath(): string {
  return join(tmp.dir, `store${++n}`, 'certs.sqlite');
}

function assertError(run: Run, code: ErrorCode, fragment: string): void {
  assert.equal(run.status, exitStatusFor(code), run.stderr);
  const lines = run.stderr.trimEnd().split('\n');
  assert.ok(
    lines.every((l) => l.startsWith('certsync: ')),
    run.stderr,
  );
  assert.ok(run.stderr.includes(fragment), `${JSON.stringify(fragment)} not in ${run.stderr}`);
}

before(async () => {
  pki = await buildStandardPki();
  tmp = makeTempDir();
});

after(async () => {
  tmp.remove();
  await pki.cleanup();
});

describe('certsync CLI', () => {
  it('init, import, list in every order, contacts, use, show, delete, export and re-import', async () => {
    const store = newStorePath();
    const s = ['--store', store];
    const init = await certsync(['init', ...s, '--json']);
    assert.equal(init.status, 0, init.stderr);
    assert.equal(JSON.parse(init.stdout).created, true);
    assert.equal(JSON.parse((await certsync(['init', ...s, '--json'])).stdout).created, false);

    const imp = await certsync([
      'import',
      file('people.pem', pki.alice.pem + pki.bob.pem + pki.carol.pem),
      pki.signedMail.path,
      pki.crl.path,
      ...s,
      '--json',
    ]);
    assert.equal(imp.status, 0, imp.stderr);
    const report = JSON.parse(imp.stdout);
    assert.equal(report.added.length, 4);
    assert.equal(report.crlsAdded.length, 1);

    const order = async (o: string): Promise<string[]> => {
      const r = await certsync(['list', '--order', o, ...s, '--json']);
      assert.equal(r.status, 0, r.stderr);
      return (JSON.parse(r.stdout) as { name: string }[]).map((x) => x.name);
    };
    assert.deepEqual(await order('store'), [
      'Alice Example',
      'Bob Example',
      'Carol Example',
      'certsync Test Intermediate',
    ]);
    assert.deepEqual(await order('subject'), [
      'Alice Example',
      'Bob Example',
      'Carol Example',
      'certsync Test Intermediate',
    ]);

    const vcf = file(
      'book.vcf',
      'BEGIN:VCARD\nVERSION:3.0\nFN:Zoe Robertson\nEMAIL:robert@example.net\nEND:VCARD\n',
    );
    const contacts = await certsync(['contacts', 'import', vcf, ...s]);
    assert.equal(contacts.status, 0, contacts.stderr);
    assert.match(contacts.stdout, /1 new address/);
    assert.deepEqual(await order('contact'), [
      'Alice Example',
      'Carol Example',
      'certsync Test Intermediate',
      'Zoe Robertson',
    ]);

    assert.equal((await certsync(['use', 'bob@example.org', ...s])).status, 0);
    const used = await certsync(['use', 'bob@example.org', ...s, '--json']);
    assert.equal(JSON.parse(used.stdout).useCount, 2);
    assert.equal((await order('use'))[0], 'Zoe Robertson');
    assertError(
      await certsync(['use', 'carol@example.org', ...s]),
      'not-found',
      'carol@example.org: no valid certificate',
    );

    const text = await certsync(['list', ...s]);
    const carolLine = text.stdout.split('\n').find((l) => l.includes('Carol Example')) ?? '';
    assert.match(carolLine, /expired/);
    assert.doesNotMatch(text.stdout.split('\n').find((l) => l.includes('Alice')) ?? '', /expired/);

    const alice = report.added.find((r: { name: string }) => r.name === 'Alice Example')
      .fingerprint as string;
    const shown = await certsync(['show', alice.slice(0, 10), ...s, '--json']);
    assert.equal(JSON.parse(shown.stdout).emails[0], 'alice@example.org');
    const shownText = await certsync(['show', alice.slice(0, 10), ...s]);
    assert.match(shownText.stdout, /subject +O=certsync tests, CN=Alice Example/);

    const out = join(tmp.dir, 'all.p7b');
    const exp = await certsync(['export', '--format', 'p7b', '--crls', '--out', out, ...s]);
    assert.equal(exp.status, 0, exp.stderr);
    const pem = await certsync(['export', alice, ...s]);
    assert.equal(pem.stdout, pki.alice.pem);

    const del = await certsync(['delete', alice.slice(0, 8), ...s]);
    assert.equal(del.status, 0, del.stderr);
    assert.deepEqual(await order('store'), [
      'Zoe Robertson',
      'Carol Example',
      'certsync Test Intermediate',
    ]);

    const second = newStorePath();
    await certsync(['init', '--store', second]);
    const re = await certsync(['import', out, '--store', second, '--json']);
    assert.equal(JSON.parse(re.stdout).added.length, 4);
    const a = await certsync(['export', '--store', store, alice]);
    assertError(a, 'not-found', alice.slice(0, 8));
    const fromSecond = await certsync(['export', '--store', second, '--format', 'der', alice]);
    assert.equal(fromSecond.status, 0, fromSecond.stderr);
    const der = await certsync([
      'export',
      '--store',
      second,
      '--format',
      'der',
      '--out',
      'alice.der',
      alice,
    ]);
    assert.equal(der.status, 0, der.stderr);
    assert.deepEqual(new Uint8Array(readFileSync(join(tmp.dir, 'alice.der'))), pki.alice.der);
  });

  it('delete also drops old tombstones every peer has received, and keeps the rest', async () => {
    const path = newStorePath();
    const [alice, bob, carol] = [pki.alice, pki.bob, pki.carol].map((c) => parseCertificate(c.der));
    if (!alice || !bob || !carol) throw new Error('certificates missing');
    const monthAgo = Store.open(path, { create: true, now: () => Date.now() - 31 * DAY });
    monthAgo.certificates.add([alice, bob, carol], { source: 'test' });
    monthAgo.certificates.delete([alice.fingerprint]);
    monthAgo.close();
    const dayAgo = Store.open(path, { now: () => Date.now() - DAY });
    dayAgo.certificates.delete([bob.fingerprint]);
    dayAgo.close();
    const r = await certsync(['delete', carol.fingerprintHex.slice(0, 8), '--store', path]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Dropped 1 old tombstone that every paired peer has received/);
    const store = Store.open(path);
    assert.equal(store.sync.entry('cert', alice.fingerprint), undefined, 'old: dropped');
    assert.equal(store.sync.entry('cert', bob.fingerprint)?.deleted, true, 'young: kept');
    assert.equal(store.sync.entry('cert', carol.fingerprint)?.deleted, true, 'just deleted');
    store.close();
  });

  it('verify refuses a trust or target file that does not read whole, naming file and block', async () => {
    const root = file('root.pem', pki.root.pem);
    const inter = file('inter.pem', pki.intermediate.pem);
    const alice = file('alice.pem', pki.alice.pem);
    const args = ['--untrusted', inter, '--offline', '--json'];
    const ok = await certsync(['verify', alice, '--trust', root, ...args]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).code, 'valid');
    const broken = pki.bob.pem.replace(/\n[A-Za-z0-9+/]{64}\n/, '\n' + '%'.repeat(64) + '\n');
    const mixed = file('mixed-trust.pem', pki.root.pem + broken);
    const line = pki.root.pem.split('\n').length;
    const r = await certsync(['verify', alice, '--trust', mixed, ...args.slice(0, 3)]);
    assertError(r, 'bad-certificate', `--trust ${mixed} block 2 (line ${line}): the block is`);
    const trap = file('trap-target.der', ASN1_TRAPS[1]?.der ?? new Uint8Array());
    const t = await certsync(['verify', trap, '--trust', root, '--offline']);
    assertError(t, 'bad-certificate', `${trap}: ${ASN1_TRAP_MESSAGE}`);
    const missing = join(tmp.dir, 'no-such-root.pem');
    const m = await certsync(['verify', alice, '--trust', missing, '--offline']);
    assertError(m, 'bad-input', `--trust ${missing}: no such file`);
  });

  it('finds the store through $CERTSYNC_STORE, then ~/.certsync/store.sqlite', async () => {
    const viaEnv = newStorePath();
    const r = await certsync(['init', '--json'], { CERTSYNC_STORE: viaEnv });
    assert.equal(JSON.parse(r.stdout).path, viaEnv);
    const home = await certsync(['init', '--json']);
    assert.equal(JSON.parse(home.stdout).path, join(tmp.dir, '.certsync', 'store.sqlite'));
  });

  it('stops a whole import at a broken PEM block, one line per problem, store unchanged', async () => {
    const store = newStorePath();
    await certsync(['init', '--store', store]);
    const broken = pki.bob.pem.replace(/\n[A-Za-z0-9+/]{64}\n/, '\n' + '%'.repeat(64) + '\n');
    const path = file('broken.pem', pki.alice.pem + broken);
    const r = await certsync(['import', path, '--store', store]);
    assertError(
      r,
      'bad-certificate',
      `${path} block 2 (line ${pki.alice.pem.split('\n').length}): the block is not valid base64`,
    );
    assert.deepEqual(r.stderr.trimEnd().split('\n').length, 1, 'one problem, one line');
    assert.match(r.stderr, /; nothing imported\n$/);
    assert.equal((await certsync(['list', '--store', store])).stdout.trim(), 'No certificates.');
  });

  it('gives each bad input its own exit status and a one-line message naming it', async () => {
    const store = newStorePath();
    await certsync(['init', '--store', store]);
    const s = ['--store', store];
    const garbage = file('garbage.bin', new Uint8Array([1, 2, 3, 4, 5]));
    assertError(
      await certsync(['import', garbage, ...s]),
      'bad-input',
      `${garbage}: not a certificate, CRL`,
    );
    const cut = file('cut.der', pki.alice.der.subarray(0, 100));
    assertError(await certsync(['import', cut, ...s]), 'bad-certificate', `${cut}: truncated`);
    const mail = file('plain.eml', 'From: a@example.org\nSubject: hi\n\nhello\n');
    assertError(await certsync(['import', mail, ...s]), 'bad-mail', `${mail}: no S/MIME signature`);
    const trap = file('trap.der', ASN1_TRAPS[0]?.der ?? new Uint8Array());
    const trapped = await certsync(['import', trap, ...s]);
    assertError(trapped, 'bad-certificate', `${trap}: ${ASN1_TRAP_MESSAGE}; nothing imported`);
    assert.equal(trapped.stderr.split('\n').length, 2, 'one line');
    const several = await certsync(['import', garbage, cut, ...s]);
    assertError(several, 'bad-input', 'nothing imported (2 problems)');
    assert.deepEqual(
      several.stderr.split('\n').map((l) => l.split(': ')[1]),
      [garbage, cut, 'nothing imported (2 problems)', undefined],
    );
    assertError(
      await certsync(['show', 'abcdef', ...s]),
      'not-found',
      'abcdef: no certificate or CRL',
    );

    const json = await certsync(['import', garbage, ...s, '--json']);
    assert.equal(json.status, exitStatusFor('bad-input'));
    assert.equal(JSON.parse(json.stdout).problems[0].code, 'bad-input');
    const [errorLine, extra] = json.stderr.trimEnd().split('\n');
    assert.equal(extra, undefined, 'one line');
    assert.equal(JSON.parse(errorLine ?? '').error.code, 'bad-input');

    const folder = join(tmp.dir, 'a-folder.pem');
    mkdirSync(folder, { recursive: true });
    assertError(
      await certsync(['import', folder, ...s]),
      'bad-input',
      `${folder}: a folder, not a file; nothing imported`,
    );
    assertError(
      await certsync(['contacts', 'import', folder, ...s]),
      'bad-input',
      `${folder}: a folder, not a file`,
    );
    const missing = join(tmp.dir, 'nowhere', 'store.sqlite');
    assertError(
      await certsync(['list', '--store', missing]),
      'store-unreadable',
      `${missing}: no store here`,
    );
    const notSqlite = file('notes.sqlite', 'just some text, not a database at all. '.repeat(100));
    assertError(await certsync(['list', '--store', notSqlite]), 'store-unreadable', notSqlite);

    const newer = newStorePath();
    await certsync(['init', '--store', newer]);
    const db = new Database(newer);
    db.pragma('user_version = 99');
    db.close();
    assertError(await certsync(['list', '--store', newer]), 'store-too-new', 'schema 99');
  });

  it('reports a store locked by another process and leaves it unchanged', async () => {
    const store = newStorePath();
    await certsync(['init', '--store', store]);
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const D=require('better-sqlite3');const d=new D(${JSON.stringify(store)});d.exec('BEGIN IMMEDIATE');console.log('locked');setTimeout(()=>{},60000)`,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.once('data', () => resolve());
        holder.once('exit', () => reject(new Error('lock holder exited')));
      });
      const r = await certsync(['import', file('a.pem', pki.alice.pem), '--store', store]);
      assertError(r, 'store-locked', `${store}: another process is using the store`);
    } finally {
      holder.kill('SIGKILL');
    }
    await new Promise((resolve) => holder.once('close', resolve));
    assert.equal((await certsync(['list', '--store', store])).stdout.trim(), 'No certificates.');
  });

  it('keeps the capacity: alert names candidates, --replace chooses, a lower limit is refused', async () => {
    const store = newStorePath();
    const s = ['--store', store];
    assert.equal(
      (await certsync(['init', '--capacity', '2', '--policy', 'alert', ...s])).status,
      0,
    );
    await certsync(['import', file('ab.pem', pki.alice.pem + pki.bob.pem), ...s]);
    const carol = file('c.pem', pki.carol.pem);
    const alert = await certsync(['import', carol, ...s]);
    assertError(alert, 'overflow-alert', 'choose 1 to replace');
    assert.match(alert.stderr, /least recently used: [0-9a-f]{16} \(Alice Example\)/);
    const alice = /: ([0-9a-f]{16}) \(Alice Example\)/.exec(alert.stderr)?.[1] ?? '';
    const ok = await certsync(['import', carol, '--replace', alice, ...s]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /evicted/);
    assertError(
      await certsync(['capacity', '--set', '1', ...s]),
      'bad-input',
      '--set: capacity 1 is below the 2 certificates held',
    );
    assertError(
      await certsync(['init', '--capacity', '1', ...s]),
      'bad-input',
      '--capacity: capacity 1 is below the 2 certificates held',
    );
    const word = await certsync(['capacity', '--set', 'ten', ...s]);
    assert.equal(word.status, 2);
    assert.equal(word.stderr, 'certsync: --set must be a whole number or "none", got ten\n');
    const cap = await certsync(['capacity', '--set', '5', '--policy', 'refuse', ...s, '--json']);
    assert.deepEqual(JSON.parse(cap.stdout), {
      count: 2,
      capacity: 5,
      free: 3,
      policy: 'refuse',
      pinned: 0,
    });
  });

  it('answers usage mistakes with status 2 and help with status 0', async () => {
    assert.equal((await certsync(['frobnicate'])).status, 2);
    const noArg = await certsync(['import']);
    assert.equal(noArg.status, 2);
    assert.match(noArg.stderr, /^certsync: import: expected at least 1 argument/);
    assert.equal((await certsync(['list', '--order', 'size', '--store', 'x'])).status, 2);
    assert.equal((await certsync(['list', '--bogus'])).status, 2);
    const help = await certsync(['--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /contacts import/);
    assert.match((await certsync(['export', '--help'])).stdout, /--format FORMAT/);
  });
});
