/**
 * A push into a full peer, two processes on one serial pty pair: the peer's policy decides.
 * Under `lru` the least recently used certificate makes room; under `refuse` the peer stays
 * as it was and says `store-full`; under `alert` this side is asked once for each certificate
 * that does not fit, and answers given before the questions (piped in together, or typed
 * ahead on a terminal) are each taken by their own question. A long push on a terminal that
 * reports no size draws its progress bar at a usable width.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { encodePem, parseCertificate, sha256, toHex } from '../pki/index.ts';
import { Store, type OverflowPolicy } from '../store/index.ts';
import { CertificateFactory, makeTemplateCertificate } from '../testing/certificate-factory.ts';
import { buildStandardPki, type StandardPki } from '../testing/openssl-pki.ts';
import { makeTempDir } from '../testing/temp-dir.ts';
import {
  CERTSYNC_BIN,
  certsyncJson,
  integrityCheck,
  runCertsync,
  ServeProcess,
  spawnCertsync,
  startPtyPair,
  type ProcessResult,
  type PtyPair,
} from './test-processes.ts';

/** Certificates in the long push: enough to last well beyond the bar's first 300 ms. */
const MANY = 300;

let pki: StandardPki;
let temp: { dir: string; remove: () => void };
let ptys: PtyPair;
let secret: string;
let pc: string;

const fp = (der: Uint8Array): string => toHex(sha256(der));

before(async () => {
  pki = await buildStandardPki();
  temp = makeTempDir('certsync-overflow-');
  const factory = new CertificateFactory((await makeTemplateCertificate(pki.pki)).der);
  const many = Array.from({ length: MANY }, (_, i) => factory.make(i));
  await writeFile(
    join(temp.dir, 'many.pem'),
    many.map((d) => encodePem('CERTIFICATE', d)).join(''),
  );
  pc = join(temp.dir, 'pc.sqlite');
  makeStore(pc, [pki.alice.der, pki.carol.der, pki.root.der, pki.intermediate.der, ...many]);
  ({ secret } = await certsyncJson<{ secret: string }>(
    ['id', '--store', pc, '--secret'],
    temp.dir,
  ));
  ptys = await startPtyPair(temp.dir);
});

after(async () => {
  await ptys.stop();
  await pki.cleanup();
  temp.remove();
});

/** A store at `path` holding `ders` in that order, with a capacity and policy if given. */
function makeStore(
  path: string,
  ders: readonly Uint8Array[],
  limit?: { capacity: number; policy: OverflowPolicy },
): void {
  const store = Store.open(path, { create: true });
  try {
    store.certificates.add(
      ders.map((d) => parseCertificate(d)),
      { source: 'test' },
    );
    if (limit) store.capacity.set(limit);
  } finally {
    store.close();
  }
}

/** Fingerprints the store at `path` holds, in store order. */
function held(path: string): string[] {
  const store = Store.open(path);
  try {
    return store.certificates.list('store').map((r) => r.fingerprintHex);
  } finally {
    store.close();
  }
}

/** A full phone (bob, then dave) under `policy`, served while `work` runs; its output. */
async function withFullPhone(
  name: string,
  policy: OverflowPolicy,
  work: (link: string[]) => Promise<void>,
): Promise<ProcessResult> {
  const phone = join(temp.dir, `${name}.sqlite`);
  makeStore(phone, [pki.bob.der, pki.dave.der], { capacity: 2, policy });
  const serve = await ServeProcess.start(
    ['--store', phone, '--link', 'serial', '--device', ptys.b, '--pair', 'pc', '--secret', secret],
    temp.dir,
  );
  // The first session with this phone pairs with it.
  const link = ['--store', pc, '--link', 'serial', '--device', ptys.a];
  try {
    await work([...link, '--pair', name, '--secret', secret]);
  } finally {
    const served = await serve.stop();
    assert.equal(served.status, 0, served.stderr);
  }
  assert.equal(integrityCheck(phone), 'ok');
  return serve.exited();
}

interface Pushed {
  counts: Record<string, number>;
  results: { id: string; outcome: string; replaced?: string; code?: string }[];
  aborted: boolean;
}

test('under lru, the full peer drops its least recently used certificate for the one pushed', async () => {
  const phone = join(temp.dir, 'lru.sqlite');
  await withFullPhone('lru', 'lru', async (link) => {
    // Bob was used after Dave arrived, so Dave is the least recently used.
    const store = Store.open(phone);
    store.certificates.recordUse(sha256(pki.bob.der));
    store.close();
    const pushed = await certsyncJson<Pushed>(
      ['push', ...link, '--email', 'alice@example.org', '--offline'],
      temp.dir,
    );
    assert.deepEqual(pushed.counts, { updated: 1 }, JSON.stringify(pushed));
    assert.equal(pushed.results[0]?.replaced, fp(pki.dave.der), 'dave made room');
  });
  assert.deepEqual(held(phone).sort(), [fp(pki.bob.der), fp(pki.alice.der)].sort());
});

test('under refuse, the full peer refuses with store-full and keeps what it held', async () => {
  const phone = join(temp.dir, 'refuse.sqlite');
  const served = await withFullPhone('refuse', 'refuse', async (link) => {
    const r = await runCertsync(
      ['push', ...link, '--email', 'alice@example.org', '--offline'],
      temp.dir,
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /1 sent to refuse: 1 refused/);
    assert.match(
      r.stdout,
      new RegExp(`${fp(pki.alice.der).slice(0, 16)} refused \\(store-full\\)`),
    );
  });
  assert.deepEqual(held(phone), [fp(pki.bob.der), fp(pki.dave.der)]);
  assert.match(served.stdout, /peer pc, 2 certificates now/);
});

test('under alert, two answers piped in before the questions answer the two questions in turn', async () => {
  const phone = join(temp.dir, 'alert-pipe.sqlite');
  await withFullPhone('alert-pipe', 'alert', async (link) => {
    const asking = spawnCertsync(
      ['push', ...link, '--subject', 'Alice', '--subject', 'Carol', '--unchecked'].concat([
        '--overflow',
        'ask',
        '--json',
      ]),
      temp.dir,
    );
    // Both answers at once, before anything was asked: the second one must not be lost.
    asking.child.stdin?.end('2\n1\n');
    const r = await asking.result;
    assert.equal(r.status, 0, r.stderr);
    const asked = [...r.stderr.matchAll(/^ +(\d+) {2}([0-9a-f]{16}) /gm)].map((m) => m[2]);
    assert.equal(asked.length, 4, `two questions of two candidates each:\n${r.stderr}`);
    const pushed = JSON.parse(r.stdout) as Pushed;
    assert.equal(pushed.counts.updated, 2, r.stdout);
    const replaced = pushed.results.map((x) => x.replaced?.slice(0, 16));
    assert.deepEqual(replaced, [asked[1], asked[2]], 'the 2nd offered first, then the 1st');
  });
  assert.deepEqual(held(phone).sort(), [fp(pki.alice.der), fp(pki.carol.der)].sort());
});

/**
 * Runs `certsync ARGS` with a pty made by `script` as its terminal, which reports 0 columns
 * (it was never given a size), typing `typed` into it at once; what the terminal showed.
 */
function onTerminal(args: readonly string[], typed = ''): Promise<ProcessResult> {
  const command = [process.execPath, CERTSYNC_BIN, ...args].map((a) => `'${a}'`).join(' ');
  const child = spawn('script', ['--quiet', '--return', '--command', command, '/dev/null'], {
    cwd: temp.dir,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, CERTSYNC_STORE: '' },
  });
  let shown = '';
  child.stdout.on('data', (d: Buffer) => (shown += d.toString()));
  if (typed) child.stdin.write(typed);
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) => {
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout: shown, stderr: '' });
    });
  });
}

test('under alert on a terminal, answers typed ahead of both questions are taken and shown', async () => {
  const phone = join(temp.dir, 'alert-tty.sqlite');
  await withFullPhone('alert-tty', 'alert', async (link) => {
    const r = await onTerminal(
      ['push', ...link, '--subject', 'Alice', '--subject', 'Carol', '--unchecked'],
      '2\r1\r',
    );
    assert.equal(r.status, 0, r.stdout);
    assert.match(r.stdout, /2 sent to alert-tty: 2 updated/, r.stdout);
    assert.match(r.stdout, /or a to abort: 2 {2}\(typed before the question\)/);
    assert.match(r.stdout, /or a to abort: 1 {2}\(typed before the question\)/);
  });
  assert.deepEqual(held(phone).sort(), [fp(pki.alice.der), fp(pki.carol.der)].sort());
});

test('on a terminal that reports 0 columns, a long push draws its whole bar, not 10 characters of it', async () => {
  const phone = join(temp.dir, 'roomy.sqlite');
  makeStore(phone, []);
  const serve = await ServeProcess.start(
    ['--store', phone, '--link', 'serial', '--device', ptys.b, '--pair', 'pc', '--secret', secret],
    temp.dir,
  );
  try {
    const r = await onTerminal(
      ['push', '--store', pc, '--link', 'serial', '--device', ptys.a].concat([
        '--pair',
        'roomy',
        '--secret',
        secret,
        '--subject',
        'User',
        '--unchecked',
      ]),
    );
    assert.equal(r.status, 0, r.stdout);
    const bars = r.stdout.split('\r').filter((l) => l.startsWith('push '));
    assert.ok(bars.length >= 2, `the bar was drawn while the push ran:\n${r.stdout}`);
    const last = bars.at(-1) ?? '';
    assert.match(last, new RegExp(`${MANY}/${MANY} certs  \\d+(\\.\\d)? (KB|MB)  `), last);
  } finally {
    const served = await serve.stop();
    assert.equal(served.status, 0, served.stderr);
  }
  assert.equal(held(phone).length, MANY);
});
