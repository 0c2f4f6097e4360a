import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildStandardPki } from '../testing/openssl-pki.ts';
import {
  certsyncJson,
  integrityCheck,
  runCertsync,
  ServeProcess,
  startPtyPair,
} from './test-processes.ts';

test(
  'two processes pair and sync over the emulated IrDA link on a socat pty pair',
  { timeout: 180_000 },
  async () => {
    const pki = await buildStandardPki();
    const dir = await mkdtemp(join(tmpdir(), 'certsync-irda-'));
    const ptys = await startPtyPair(dir);
    try {
      for (const name of ['alice', 'bob', 'dave'] as const) {
        await writeFile(join(dir, `${name}.pem`), pki[name].pem);
      }
      const pc = join(dir, 'pc.sqlite');
      const phone = join(dir, 'phone.sqlite');
      await runCertsync(['init', '--store', pc], dir);
      await runCertsync(['init', '--store', phone], dir);
      await runCertsync(['import', '--store', pc, 'alice.pem', 'bob.pem'], dir);
      await runCertsync(['import', '--store', phone, 'dave.pem'], dir);
      const { secret } = await certsyncJson<{ secret: string }>(
        ['id', '--store', pc, '--secret'],
        dir,
      );
      const serve = await ServeProcess.start(
        [
          '--store',
          phone,
          '--link',
          'irda',
          '--device',
          ptys.b,
          '--pair',
          'pc',
          '--secret',
          secret,
          '--once',
        ],
        dir,
      );
      const synced = await certsyncJson<{ received: number; sent: number; certificates: number }>(
        [
          'sync',
          '--store',
          pc,
          '--link',
          'irda',
          '--device',
          ptys.a,
          '--pair',
          'phone',
          '--secret',
          secret,
        ],
        dir,
      );
      assert.deepEqual([synced.received, synced.sent, synced.certificates], [1, 2, 3]);
      const served = await serve.exited();
      assert.equal(served.status, 0, served.stderr);
      assert.match(served.stdout, /peer pc, 3 certificates now/);
      assert.equal(integrityCheck(phone), 'ok');
    } finally {
      await ptys.stop();
      await pki.cleanup();
      await rm(dir, { recursive: true, force: true });
    }
  },
);
