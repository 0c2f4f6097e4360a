import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  certsyncJson,
  runCertsync,
  ServeProcess,
  spawnCertsync,
  type ProcessResult,
} from '../../client/test-processes.ts';
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

      // Numeric comparison: each side shows a code and its user types the code the other
      // side shows. A wrong code first: pairing is refused and neither side remembers a peer.
      const refused = await pairByTypedCodes(dir, phone, pc, () => '000000');
      assert.notEqual(refused.connect.status, 0, 'a mistyped code refuses the pairing');
      assert.equal((await certsyncJson<unknown[]>(['peers', '--store', pc], dir)).length, 0);
      assert.equal((await certsyncJson<unknown[]>(['peers', '--store', phone], dir)).length, 0);

      const paired = await pairByTypedCodes(dir, phone, pc, (shownOnOtherSide) => shownOnOtherSide);
      assert.equal(paired.connect.status, 0, paired.connect.stderr);
      assert.equal(paired.serve.status, 0, paired.serve.stderr);
      assert.equal(paired.codes[0], paired.codes[1], 'both sides show the same code');

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

/**
 * Pairs `pc` (connect) with `phone` (serve) by numeric comparison: waits until both sides
 * show their code, then types into each side `answer(code the other side shows)`.
 */
async function pairByTypedCodes(
  dir: string,
  phone: string,
  pc: string,
  answer: (shownOnOtherSide: string) => string,
): Promise<{ serve: ProcessResult; connect: ProcessResult; codes: [string, string] }> {
  const serve = await ServeProcess.start(
    ['--store', phone, '--link', 'tcp', '--port', '0', '--pair', 'pc', '--once'],
    dir,
  );
  const connect = spawnCertsync(
    ['connect', '--store', pc, '--link', 'tcp', '--port', String(serve.port)].concat([
      '--pair',
      'phone',
      '--auto',
      'off',
    ]),
    dir,
  );
  const codeOf = (child: typeof serve.child) =>
    new Promise<string>((resolve) => {
      let seen = '';
      child.stderr?.on('data', (d: Buffer) => {
        seen += d.toString();
        const m = /Pairing code (\d{6})/.exec(seen);
        if (m) resolve(m[1] as string);
      });
    });
  const [onPhone, onPc] = await Promise.all([codeOf(serve.child), codeOf(connect.child)]);
  serve.child.stdin?.end(`${answer(onPc)}\n`);
  connect.child.stdin?.end(`${answer(onPhone)}\n`);
  const [served, connected] = await Promise.all([serve.exited(), connect.result]);
  return { serve: served, connect: connected, codes: [onPhone, onPc] };
}
