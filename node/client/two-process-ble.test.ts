import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { missingTools, startBtvirt } from '../../transports/ble/btvirt/harness.ts';
import { buildStandardPki } from '../testing/openssl-pki.ts';
import { certsyncJson, integrityCheck, runCertsync, ServeProcess } from './test-processes.ts';

// Needs btvirt, socat and gcc; without them it fails, naming what to install.
test(
  'two processes pair and sync over BLE: bleno peripheral and noble central on btvirt',
  { timeout: 240_000 },
  async () => {
    const missing = missingTools();
    assert.equal(missing, undefined, missing);
    const pki = await buildStandardPki();
    const dir = await mkdtemp(join(tmpdir(), 'certsync-ble-'));
    const btvirt = await startBtvirt();
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
      const peripheralTty = await btvirt.bridge('phone');
      const centralTty = await btvirt.bridge('pc');
      const serve = await ServeProcess.start(
        [
          '--store',
          phone,
          '--link',
          'ble',
          '--hci',
          peripheralTty,
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
          'ble',
          '--hci',
          centralTty,
          '--pair',
          'phone',
          '--secret',
          secret,
        ],
        dir,
      );
      assert.equal(synced.received, 1);
      assert.equal(synced.sent, 2);
      assert.equal(synced.certificates, 3);
      const served = await serve.exited();
      assert.equal(served.status, 0, served.stderr);
      assert.match(served.stdout, /peer pc, 3 certificates now/);
      assert.equal(integrityCheck(phone), 'ok');
    } finally {
      await btvirt.stop();
      await pki.cleanup();
      await rm(dir, { recursive: true, force: true });
    }
  },
);
