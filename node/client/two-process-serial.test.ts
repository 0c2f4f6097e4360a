import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Store } from '../store/index.ts';
import { buildStandardPki, type StandardPki } from '../testing/openssl-pki.ts';
import {
  certsyncJson,
  integrityCheck,
  runCertsync,
  ServeProcess,
  spawnCertsync,
  startPtyPair,
  type PtyPair,
} from './test-processes.ts';

let pki: StandardPki;
let dir: string;
let ptys: PtyPair;

before(async () => {
  pki = await buildStandardPki();
  dir = await mkdtemp(join(tmpdir(), 'certsync-serial-'));
  for (const name of ['alice', 'bob', 'carol', 'dave', 'root', 'intermediate'] as const) {
    await writeFile(join(dir, `${name}.pem`), pki[name].pem);
  }
  ptys = await startPtyPair(dir);
});

after(async () => {
  await ptys.stop();
  await pki.cleanup();
  await rm(dir, { recursive: true, force: true });
});

test(
  'a long-lived serve on a serial pty answers one peer after another: auto list, push into a full store, pull',
  { timeout: 300_000 },
  async () => {
    const pc = join(dir, 'pc.sqlite');
    const phone = join(dir, 'phone.sqlite');
    await runCertsync(['init', '--store', pc], dir);
    const init = await runCertsync(
      ['init', '--store', phone, '--capacity', '3', '--policy', 'alert'],
      dir,
    );
    assert.equal(init.status, 0, init.stderr);
    await runCertsync(
      ['import', '--store', pc, 'alice.pem', 'bob.pem', 'root.pem', 'intermediate.pem'],
      dir,
    );
    await runCertsync(['import', '--store', phone, 'carol.pem', 'dave.pem'], dir);
    const { secret } = await certsyncJson<{ secret: string }>(
      ['id', '--store', pc, '--secret'],
      dir,
    );

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
    const link = ['--link', 'serial', '--device', ptys.a];
    try {
      // First peer visit: pair, and compare the stores (auto list).
      const first = await certsyncJson<{
        comparison: { mine: number; theirs: number; both: number };
      }>(
        [
          'connect',
          '--store',
          pc,
          ...link,
          '--pair',
          'phone',
          '--secret',
          secret,
          '--auto',
          'list',
        ],
        dir,
      );
      assert.deepEqual(first.comparison, { mine: 4, theirs: 2, both: 0 });

      // Second visit: the phone holds 2 of 3; two more do not fit. Its policy is alert, and
      // this non-interactive run answers the alert by replacing the least recently used.
      const pushed = await certsyncJson<{
        counts: Record<string, number>;
        results: { replaced?: string }[];
      }>(
        [
          'push',
          '--store',
          pc,
          ...link,
          '--peer',
          'phone',
          '--subject',
          'Alice',
          '--subject',
          'Bob',
          '--overflow',
          'oldest',
          '--unchecked',
        ],
        dir,
      );
      assert.equal(pushed.counts.stored, 1);
      assert.equal(pushed.counts.updated, 1);
      assert.equal(pushed.results.filter((r) => r.replaced).length, 1);

      // Third visit: with --overflow abort, a full store stays as it was.
      const refused = await runCertsync(
        [
          'push',
          '--store',
          pc,
          ...link,
          '--subject',
          'Test Root',
          '--overflow',
          'abort',
          '--unchecked',
          '--json',
        ],
        dir,
      );
      assert.equal(JSON.parse(refused.stdout).aborted, true);

      // Fourth visit: pull what the phone still has from before.
      const pulled = await certsyncJson<{ counts: Record<string, number> }>(
        ['pull', '--store', pc, ...link, '--email', 'dave@example.org'],
        dir,
      );
      assert.deepEqual(pulled.counts, { stored: 1 });

      // Fifth visit: the phone is full again and the user is asked; the answer "2" on
      // standard input replaces the second certificate offered.
      const asking = spawnCertsync(
        ['push', '--store', pc, ...link, '--subject', 'Test Root'].concat([
          '--overflow',
          'ask',
          '--unchecked',
          '--json',
        ]),
        dir,
      );
      asking.child.stdin?.end('2\n');
      const asked = await asking.result;
      assert.equal(asked.status, 0, asked.stderr);
      const offered = [...asked.stderr.matchAll(/^ +(\d+) {2}([0-9a-f]{16}) /gm)];
      assert.ok(offered.length >= 2, asked.stderr);
      const chosen = JSON.parse(asked.stdout) as { results: { replaced?: string }[] };
      const replaced = chosen.results.find((r) => r.replaced)?.replaced ?? '';
      assert.ok(replaced.startsWith(offered[1]?.[2] ?? '-'), `${replaced} was offered second`);
    } finally {
      const served = await serve.stop();
      assert.equal(served.status, 0, served.stderr);
      assert.equal(served.stdout.trim().split('\n').length, 5, served.stdout);
    }
    assert.equal(integrityCheck(phone), 'ok');
    assert.equal(integrityCheck(pc), 'ok');
    const store = Store.open(phone);
    try {
      assert.equal(store.capacity.state().count, 3, 'capacity holds');
    } finally {
      store.close();
    }
  },
);
