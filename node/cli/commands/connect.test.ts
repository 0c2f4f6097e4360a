import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { certsyncJson, runCertsync, ServeProcess } from '../../client/test-processes.ts';
import { buildStandardPki } from '../../testing/openssl-pki.ts';

test(
  'pairing by a confirmed code, then connect with auto check-and-sync against a serve with auto sync',
  { timeout: 180_000 },
  async () => {
    const pki = await buildStandardPki();
    const dir = await mkdtemp(join(tmpdir(), 'certsync-connect-'));
    try {
      for (const name of ['alice', 'bob', 'carol', 'root', 'intermediate'] as const) {
        await writeFile(join(dir, `${name}.pem`), pki[name].pem);
      }
      const pc = join(dir, 'pc.sqlite');
      const phone = join(dir, 'phone.sqlite');
      await runCertsync(['init', '--store', pc], dir);
      await runCertsync(['init', '--store', phone], dir);
      await runCertsync(
        ['import', '--store', pc, 'alice.pem', 'carol.pem', 'root.pem', 'intermediate.pem'],
        dir,
      );
      await runCertsync(['import', '--store', phone, 'bob.pem'], dir);

      // Numeric comparison: both sides are told the code; --yes confirms it for a script.
      const pairing = await ServeProcess.start(
        ['--store', phone, '--link', 'tcp', '--port', '0', '--pair', 'pc', '--yes', '--once'],
        dir,
      );
      const paired = await runCertsync(
        [
          'connect',
          '--store',
          pc,
          '--link',
          'tcp',
          '--port',
          String(pairing.port),
          '--pair',
          'phone',
          '--yes',
          '--auto',
          'off',
        ],
        dir,
      );
      assert.equal(paired.status, 0, paired.stderr);
      const codeOnPc = /Pairing code (\d{6})/.exec(paired.stderr)?.[1];
      const served = await pairing.exited();
      assert.equal(served.status, 0, served.stderr);
      const codeOnPhone = /Pairing code (\d{6})/.exec(served.stderr)?.[1];
      assert.ok(codeOnPc, paired.stderr);
      assert.equal(codeOnPc, codeOnPhone, 'both sides show the same code');

      // The phone reconciles by itself; the PC checks its own store first, then syncs.
      const serve = await ServeProcess.start(
        ['--store', phone, '--link', 'tcp', '--port', '0', '--auto', 'sync', '--once'],
        dir,
      );
      const auto = await certsyncJson<{
        auto: string;
        withheld: number;
        reconcile: { stored: number; sentFull: number };
      }>(
        [
          'connect',
          '--store',
          pc,
          '--link',
          'tcp',
          '--port',
          String(serve.port),
          '--peer',
          'phone',
          '--auto',
          'check-and-sync',
        ],
        dir,
      );
      assert.equal(auto.auto, 'check-and-sync');
      assert.equal(auto.reconcile.stored, 1, 'bob came over');
      assert.equal(auto.reconcile.sentFull, 3, 'carol, expired, was not offered');
      assert.equal(auto.withheld, 1);
      assert.equal((await serve.exited()).status, 0);
      const checked = await certsyncJson<{ ran: boolean }>(
        ['check', '--store', pc, '--offline'],
        dir,
      );
      assert.equal(checked.ran, false, 'the automatic check was recorded');
    } finally {
      await pki.cleanup();
      await rm(dir, { recursive: true, force: true });
    }
  },
);
