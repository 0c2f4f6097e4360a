import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { formatPairingSecret } from '../../../protocol/secure/pairing.ts';
import { dialLink } from '../../client/links.ts';
import { connectSession } from '../../client/peer-session.ts';
import { runCertsync, ServeProcess } from '../../client/test-processes.ts';
import { fileURLToPath } from 'node:url';
import { Store } from '../../store/index.ts';

const SECRET = formatPairingSecret(new Uint8Array(16).fill(3));

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certsync-serve-'));
});
after(() => rm(dir, { recursive: true, force: true }));

/** A fresh store at `<dir>/<name>.sqlite`. */
async function newStore(name: string): Promise<string> {
  const path = join(dir, `${name}.sqlite`);
  const r = await runCertsync(['init', '--store', path], dir);
  assert.equal(r.status, 0, r.stderr);
  return path;
}

function lengthPrefixed(payload: Uint8Array): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(payload.length);
  return Buffer.concat([head, payload]);
}

/**
 * Connects a raw TCP peer, waits for the server's hello, runs `act` (which may return how to
 * stop what it keeps doing) and resolves with how long, in ms after the hello, the server
 * took to close the connection (Infinity when it kept it past `limitMs`).
 */
function rawPeer(
  port: number,
  act: (socket: Socket, serverHello: Buffer) => (() => void) | void,
  limitMs: number,
): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let got = Buffer.alloc(0);
    let helloAt = 0;
    let stop: (() => void) | void;
    const end = (ms: number) => {
      clearTimeout(limit);
      stop?.();
      socket.destroy();
      resolve(ms);
    };
    const limit = setTimeout(() => end(Number.POSITIVE_INFINITY), limitMs);
    socket.on('error', () => undefined);
    socket.on('close', () => end(Date.now() - helloAt));
    socket.on('data', (chunk: Buffer) => {
      if (helloAt !== 0) return;
      got = Buffer.concat([got, chunk]);
      if (got.length < 4 || got.length < 4 + got.readUInt32BE(0)) return;
      helloAt = Date.now();
      stop = act(socket, got.subarray(4, 4 + got.readUInt32BE(0)));
    });
  });
}

/** Announces a 200,000-byte frame and sends one byte of it every tenth of a second. */
function trickle(socket: Socket): () => void {
  socket.write(Buffer.from([0, 3, 0x0d, 0x40]));
  const timer = setInterval(() => socket.writable && socket.write(Uint8Array.of(0xa5)), 100);
  return () => clearInterval(timer);
}

test(
  'serve cuts off a silent, a trickling, a garbage and a stalled-handshake peer with their ' +
    'error codes, and serves the next peer',
  { timeout: 120_000 },
  async () => {
    const store = await newStore('server');
    const honest = await newStore('honest');
    const serve = await ServeProcess.start(
      ['--store', store, '--link', 'tcp', '--port', '0', '--json']
        .concat(['--pair', 'honest', '--secret', SECRET])
        .concat(['--hello-timeout', '1', '--handshake-timeout', '1.5']),
      dir,
    );
    let output = '';
    try {
      const silent = await rawPeer(serve.port, () => undefined, 10_000);
      const trickling = await rawPeer(serve.port, trickle, 10_000);
      const garbage = await rawPeer(
        serve.port,
        (s) => void s.write(lengthPrefixed(Uint8Array.of(0x83, 0x01, 0x01, 0xff))),
        10_000,
      );
      // The server's own hello is a valid hello; then nothing of the handshake follows.
      const stalled = await rawPeer(
        serve.port,
        (s, hello) => void s.write(lengthPrefixed(hello)),
        10_000,
      );
      assert.ok(silent >= 900 && silent < 5_000, `silent peer cut off after ${silent} ms`);
      assert.ok(trickling >= 900 && trickling < 5_000, `trickle cut off after ${trickling} ms`);
      assert.ok(garbage < 1_000, `garbage hello cut off after ${garbage} ms`);
      assert.ok(stalled >= 1_400 && stalled < 5_000, `handshake cut off after ${stalled} ms`);

      const listing = await runCertsync(
        ['peer', 'list', '--store', honest, '--link', 'tcp', '--port', String(serve.port)].concat([
          '--pair',
          'server',
          '--secret',
          SECRET,
        ]),
        dir,
      );
      assert.equal(listing.status, 0, listing.stderr);
    } finally {
      output = (await serve.stop()).stdout;
    }
    const visits = output
      .split('\n')
      .filter((l) => l.startsWith('{"peer"'))
      .map((l) => JSON.parse(l) as { peer: string; error: string | null; code?: string });
    assert.deepEqual(
      visits.map((v) => v.code ?? null),
      ['timeout', 'timeout', 'malformed-message', 'timeout', null],
    );
    assert.equal(visits[4]?.peer, 'honest');
    assert.equal(visits[4]?.error, null);
  },
);

test(
  'a paired peer that sends nothing once the session is up gets a goodbye after the idle ' +
    'timeout, and the visit ends with timeout',
  { timeout: 120_000 },
  async () => {
    const store = await newStore('idle-server');
    const client = await newStore('idle-client');
    const serve = await ServeProcess.start(
      ['--store', store, '--link', 'tcp', '--port', '0', '--json'].concat([
        '--pair',
        'idler',
        '--secret',
        SECRET,
        '--idle-timeout',
        '1.5',
      ]),
      dir,
    );
    let output = '';
    try {
      const own = Store.open(client);
      const opened = await dialLink({ kind: 'tcp', port: serve.port });
      try {
        const session = await connectSession(opened.link, {
          store: own,
          autoSync: false,
          intent: { kind: 'pair-secret', name: 'server', secret: SECRET },
        });
        const up = Date.now();
        const ended = await session.whenEnded();
        const after = Date.now() - up;
        assert.equal(ended, null, 'the server said goodbye');
        assert.ok(after >= 1_400 && after < 6_000, `idle session ended after ${after} ms`);
      } finally {
        await opened.release();
        own.close();
      }
    } finally {
      output = (await serve.stop()).stdout;
    }
    const visit = JSON.parse(output.split('\n').find((l) => l.startsWith('{"peer"'))!) as {
      peer: string;
      code?: string;
    };
    assert.equal(visit.peer, 'idler');
    assert.equal(visit.code, 'timeout');
  },
);

test('serve refuses a timeout that is not a number of seconds', async () => {
  const store = await newStore('usage');
  const r = await runCertsync(
    ['serve', '--store', store, '--link', 'tcp', '--port', '0', '--idle-timeout', 'soon'],
    dir,
  );
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--idle-timeout: expected seconds above 0, got soon/);
});

const PROBE = fileURLToPath(new URL('../../testing/serve-heap-probe.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

test(
  'a long-lived serve does not grow with the number of peers it has cut off',
  {
    timeout: 120_000,
  },
  async () => {
    const store = await newStore('heap');
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', PROBE, '--store', store, '--link', 'tcp', '--port', '0'],
      { cwd: ROOT, stdio: ['pipe', 'ignore', 'pipe'] },
    );
    let said = '';
    const waiters: ((line: string) => void)[] = [];
    child.stderr.on('data', (d: Buffer) => {
      said += d.toString();
      for (let m = /\n/.exec(said); m; m = /\n/.exec(said)) {
        const line = said.slice(0, m.index);
        said = said.slice(m.index + 1);
        for (const w of waiters.splice(0)) w(line);
      }
    });
    const nextLine = () => new Promise<string>((resolve) => waiters.push(resolve));
    try {
      const listening = await nextLine();
      const port = Number(/127\.0\.0\.1:(\d+)/.exec(listening)?.[1]);
      assert.ok(port > 0, listening);
      const garbage = (n: number) =>
        Array.from({ length: n }).reduce<Promise<unknown>>(
          (p) =>
            p.then(() =>
              rawPeer(port, (s) => void s.write(Buffer.from([0, 0, 0, 1, 0xff])), 5_000),
            ),
          Promise.resolve(),
        );
      const heap = async () => {
        const line = nextLine();
        child.stdin.write('heap\n');
        return Number(/^heap (\d+)$/.exec(await line)?.[1]);
      };
      await garbage(200);
      const before = await heap();
      await garbage(1_500);
      const grown = (await heap()) - before;
      // A peer's link held after its visit is about 3 KiB: 1,500 of them would be 4 MiB.
      assert.ok(grown < 1_000_000, `the heap grew by ${grown} bytes over 1,500 peers`);
    } finally {
      child.stdin.end();
      child.kill('SIGTERM');
    }
  },
);
