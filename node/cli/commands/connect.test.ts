import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  certsyncJson,
  integrityCheck,
  runCertsync,
  ServeProcess,
  spawnCertsync,
  startPtyPair,
  type ProcessResult,
} from '../../client/test-processes.ts';
import { buildStandardPki, type StandardPki } from '../../testing/openssl-pki.ts';

/** How the two processes meet: the link options of `serve`, and of the side that connects. */
interface Link {
  readonly name: string;
  open(dir: string): Promise<{
    serve: readonly string[];
    connect: (serve: ServeProcess) => readonly string[];
    stop: () => Promise<void>;
  }>;
}

const LINKS: readonly Link[] = [
  {
    name: 'tcp',
    open: async () => ({
      serve: ['--link', 'tcp', '--port', '0'],
      connect: (serve) => ['--link', 'tcp', '--port', String(serve.port)],
      stop: async () => undefined,
    }),
  },
  {
    name: 'a serial pty pair',
    open: async (dir) => {
      const ptys = await startPtyPair(dir);
      return {
        serve: ['--link', 'serial', '--device', ptys.b],
        connect: () => ['--link', 'serial', '--device', ptys.a],
        stop: () => ptys.stop(),
      };
    },
  },
];

let pki: StandardPki;

before(async () => {
  pki = await buildStandardPki();
});

after(async () => {
  await pki.cleanup();
});

for (const link of LINKS) {
  test(
    `over ${link.name}: pairing by a confirmed code, then connect with auto check-and-sync against a serve with auto sync`,
    { timeout: 180_000 },
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'certsync-connect-'));
      const wire = await link.open(dir);
      try {
        await pairThenAutoSync(dir, wire);
      } finally {
        await wire.stop();
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
}

type Wire = Awaited<ReturnType<Link['open']>>;

/**
 * The PC holds Alice, the expired Carol and their CAs, the phone Bob. They pair by a typed
 * code (a wrong one first), then meet again with automatic reconciliation on both sides.
 */
async function pairThenAutoSync(dir: string, wire: Wire): Promise<void> {
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
  const refused = await pairByTypedCodes(dir, wire, phone, pc, () => '000000');
  assert.notEqual(refused.connect.status, 0, 'a mistyped code refuses the pairing');
  assert.equal((await certsyncJson<unknown[]>(['peers', '--store', pc], dir)).length, 0);
  assert.equal((await certsyncJson<unknown[]>(['peers', '--store', phone], dir)).length, 0);

  const paired = await pairByTypedCodes(
    dir,
    wire,
    phone,
    pc,
    (shownOnOtherSide) => shownOnOtherSide,
  );
  assert.equal(paired.connect.status, 0, paired.connect.stderr);
  assert.equal(paired.serve.status, 0, paired.serve.stderr);
  assert.equal(paired.codes[0], paired.codes[1], 'both sides show the same code');

  // The phone reconciles by itself; the PC checks its own store first, then syncs.
  const serve = await ServeProcess.start(
    ['--store', phone, ...wire.serve, '--auto', 'sync', '--once'],
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
      ...wire.connect(serve),
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
  const checked = await certsyncJson<{ ran: boolean }>(['check', '--store', pc, '--offline'], dir);
  assert.equal(checked.ran, false, 'the automatic check was recorded');

  // Both stores hold the same, but for the expired Carol the PC did not offer.
  const count = async (store: string) =>
    (await certsyncJson<unknown[]>(['list', '--store', store], dir)).length;
  assert.equal(await count(pc), 5);
  assert.equal(await count(phone), 4);
  assert.equal(integrityCheck(pc), 'ok');
  assert.equal(integrityCheck(phone), 'ok');
}

/**
 * Pairs `pc` (connect) with `phone` (serve) by numeric comparison: waits until both sides
 * show their code, then types into each side `answer(code the other side shows)`.
 */
async function pairByTypedCodes(
  dir: string,
  wire: Wire,
  phone: string,
  pc: string,
  answer: (shownOnOtherSide: string) => string,
): Promise<{ serve: ProcessResult; connect: ProcessResult; codes: [string, string] }> {
  const serve = await ServeProcess.start(
    ['--store', phone, ...wire.serve, '--pair', 'pc', '--once'],
    dir,
  );
  const connect = spawnCertsync(
    ['connect', '--store', pc, ...wire.connect(serve)].concat(['--pair', 'phone', '--auto', 'off']),
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
