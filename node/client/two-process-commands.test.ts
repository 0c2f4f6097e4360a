import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildStandardPki, type StandardPki } from '../testing/openssl-pki.ts';
import { Store } from '../store/index.ts';
import {
  certsyncJson,
  integrityCheck,
  runCertsync,
  ServeProcess,
  startPtyPair,
} from './test-processes.ts';

let pki: StandardPki;
let dir: string;

before(async () => {
  pki = await buildStandardPki();
  dir = await mkdtemp(join(tmpdir(), 'certsync-commands-'));
  for (const name of ['alice', 'bob', 'carol', 'dave', 'root', 'intermediate'] as const) {
    await writeFile(join(dir, `${name}.pem`), pki[name].pem);
  }
  await writeFile(join(dir, 'crl.der'), pki.crl.bytes);
});

after(async () => {
  await pki.cleanup();
  await rm(dir, { recursive: true, force: true });
});

test(
  'two processes on a serial pty pair: pair, sync both ways, peer list, peer delete, push',
  { timeout: 300_000 },
  async () => {
    const pc = join(dir, 'pc.sqlite');
    const phone = join(dir, 'phone.sqlite');
    assert.equal((await runCertsync(['init', '--store', pc], dir)).status, 0);
    assert.equal((await runCertsync(['init', '--store', phone], dir)).status, 0);
    const imported = await runCertsync(
      ['import', '--store', pc, 'alice.pem', 'bob.pem', 'root.pem', 'intermediate.pem', 'crl.der'],
      dir,
    );
    assert.equal(imported.status, 0, imported.stderr);
    assert.equal((await runCertsync(['import', '--store', phone, 'dave.pem'], dir)).status, 0);
    const { secret } = await certsyncJson<{ secret: string }>(
      ['id', '--store', pc, '--secret'],
      dir,
    );

    const ptys = await startPtyPair(dir);
    const serve = await ServeProcess.start(
      [
        '--store',
        phone,
        '--link',
        'serial',
        '--device',
        ptys.b,
        '--pair',
        'pc',
        '--secret',
        secret,
      ],
      dir,
    );
    try {
      const link = ['--link', 'serial', '--device', ptys.a];
      const synced = await certsyncJson<{ received: number; sent: number; certificates: number }>(
        ['sync', '--store', pc, ...link, '--pair', 'phone', '--secret', secret],
        dir,
      );
      assert.equal(synced.received, 1, 'dave came from the phone');
      assert.equal(synced.certificates, 5);

      // The pairing holds: the next session is authenticated without a secret.
      const listed = await certsyncJson<{ mine: number; theirs: number; both: number }>(
        ['peer', 'list', '--store', pc, ...link, '--peer', 'phone'],
        dir,
      );
      assert.deepEqual([listed.mine, listed.theirs, listed.both], [5, 5, 5]);

      const deleted = await certsyncJson<{ outcome: string }[]>(
        ['peer', 'delete', '--store', pc, ...link, '--email', 'alice@example.org'],
        dir,
      );
      assert.deepEqual(
        deleted.map((d) => d.outcome),
        ['deleted'],
      );

      const pushed = await certsyncJson<{ counts: Record<string, number> }>(
        ['push', '--store', pc, ...link, '--email', 'alice@example.org', '--offline'],
        dir,
      );
      assert.deepEqual(pushed.counts, { stored: 1 });
    } finally {
      const result = await serve.stop();
      await ptys.stop();
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, /peer pc/);
    }
    assert.equal(integrityCheck(phone), 'ok');
    assert.equal(integrityCheck(pc), 'ok');
    const store = Store.open(phone);
    try {
      const emails = store.certificates.list('subject').flatMap((r) => r.emails);
      assert.ok(emails.includes('alice@example.org'));
      assert.ok(emails.includes('dave@example.org'));
      assert.equal(store.peers.list()[0]?.name, 'pc');
    } finally {
      store.close();
    }
  },
);

test(
  'a peer that is not paired gets nothing: the handshake refuses it',
  { timeout: 120_000 },
  async () => {
    const stranger = join(dir, 'stranger.sqlite');
    const host = join(dir, 'host.sqlite');
    await runCertsync(['init', '--store', stranger], dir);
    await runCertsync(['init', '--store', host], dir);
    await runCertsync(['import', '--store', host, 'bob.pem'], dir);
    const serve = await ServeProcess.start(
      ['--store', host, '--link', 'tcp', '--port', '0', '--once'],
      dir,
    );
    const r = await runCertsync(
      ['peer', 'list', '--store', stranger, '--link', 'tcp', '--port', String(serve.port)],
      dir,
    );
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /pair/i);
    const served = await serve.exited();
    assert.notEqual(served.status, 0);
  },
);
