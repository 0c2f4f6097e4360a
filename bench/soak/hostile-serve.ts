/**
 * Hostile peers against a real `certsync serve --link tcp` on 127.0.0.1, speaking raw
 * length-prefixed frames: a peer that stalls after the server's hello, announces a 4 GiB
 * frame, announces a large frame and trickles it (an endless message), floods junk frames,
 * replays the server's own hello back, sends garbage as its hello, or sends a valid hello
 * and stalls in the handshake. Each connection must be closed by the server within the
 * bound, and the server's report of that visit must carry one of the script's error codes.
 * Then an honest peer pairs and lists the server's store: it must be served. The server
 * must stay up with bounded memory, and its store must be unchanged and whole afterwards.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { integrityCheck, runCertsync, ServeProcess } from '../../node/client/test-processes.ts';
import { Store } from '../../node/store/index.ts';
import { formatPairingSecret } from '../../protocol/secure/pairing.ts';
import { buildStandardPki } from '../../node/testing/openssl-pki.ts';

/** One raw script: what it writes after the server's hello arrives. */
export interface SocketScript {
  readonly name: string;
  /** The error codes the server may cut it off with. */
  readonly expect: readonly string[];
  /** Writes to the socket; `serverHello` is the server's first frame (without prefix). */
  play(socket: Socket, serverHello: Uint8Array, signal: AbortSignal): Promise<void>;
}

/** What one connection did. */
export interface SocketOutcome {
  readonly script: string;
  /** True when the server closed the connection within the bound. */
  readonly cutOff: boolean;
  readonly cutOffMs: number;
  readonly bytesSent: number;
  /** The error code of the server's report of this visit; `none` when it reported none. */
  readonly code: string;
}

const prefix = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
const framed = (payload: Uint8Array) => Buffer.concat([prefix(payload.length), payload]);
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });

/** Writes unless the socket is gone; resolves after the write drained or failed. */
function write(socket: Socket, bytes: Uint8Array): Promise<boolean> {
  if (socket.destroyed || !socket.writable) return Promise.resolve(false);
  return new Promise((resolve) => socket.write(bytes, (err) => resolve(!err)));
}

/** The scripts. */
export const SOCKET_SCRIPTS: readonly SocketScript[] = [
  { name: 'stall-after-hello', expect: ['timeout'], play: () => Promise.resolve() },
  {
    name: 'oversized-4GiB',
    expect: ['link-error', 'frame-too-large'],
    play: async (s) => void (await write(s, prefix(0xffffffff))),
  },
  {
    name: 'endless-trickle',
    expect: ['timeout'],
    play: async (s, _h, signal) => {
      await write(s, prefix(200_000));
      while (!signal.aborted && (await write(s, Uint8Array.of(0xa5)))) await sleep(50, signal);
    },
  },
  {
    name: 'flood-junk',
    expect: ['malformed-message', 'unknown-message', 'unexpected-message'],
    play: async (s, _h, signal) => {
      const junk = framed(new Uint8Array(1024).map((_, i) => (i * 17 + 3) & 0xff));
      for (let i = 0; i < 5_000 && !signal.aborted; i++) if (!(await write(s, junk))) break;
    },
  },
  {
    name: 'replayed-hello',
    expect: ['malformed-message', 'unexpected-message', 'handshake-failed'],
    play: async (s, hello, signal) => {
      for (let i = 0; i < 50 && !signal.aborted; i++) if (!(await write(s, framed(hello)))) break;
    },
  },
  {
    name: 'garbage-hello',
    expect: ['malformed-message'],
    play: async (s) => void (await write(s, framed(Uint8Array.of(0x83, 0x01, 0x01, 0xff)))),
  },
  {
    name: 'stall-in-handshake',
    expect: ['timeout'],
    play: async (s, hello) => void (await write(s, framed(hello))),
  },
];

/** Connects, waits for the server's hello, plays `script`, and times the server's close. */
export function playSocketScript(
  port: number,
  script: SocketScript,
  boundMs: number,
): Promise<SocketOutcome> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const abort = new AbortController();
    let got = Buffer.alloc(0);
    let started = 0;
    let playing = false;
    let bytesSent = 0;
    const finish = (cutOff: boolean) => {
      clearTimeout(timer);
      abort.abort();
      bytesSent = socket.bytesWritten;
      socket.destroy();
      const cutOffMs = Date.now() - started;
      resolve({ script: script.name, cutOff, cutOffMs, bytesSent, code: 'none' });
    };
    const timer = setTimeout(() => finish(false), boundMs + 10_000);
    socket.on('data', (chunk: Buffer) => {
      if (playing) return;
      got = Buffer.concat([got, chunk]);
      if (got.length < 4 || got.length < 4 + got.readUInt32BE(0)) return;
      playing = true;
      started = Date.now();
      clearTimeout(timer);
      const bound = setTimeout(() => finish(false), boundMs);
      socket.once('close', () => clearTimeout(bound));
      void script.play(socket, got.subarray(4, 4 + got.readUInt32BE(0)), abort.signal);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (!abort.signal.aborted) finish(playing);
    });
  });
}

/** A server's store: every entry and its state, as one digest. */
function storeDigest(path: string): string {
  const s = Store.open(path);
  try {
    const h = createHash('sha256');
    for (const e of s.sync.entries())
      h.update(
        JSON.stringify(e, (_k, v: unknown) =>
          v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v,
        ),
      );
    return h.digest('hex');
  } finally {
    s.close();
  }
}

/** Peak resident memory of a process, from /proc (kB), or 0 when unknown. */
function peakRssKb(pid: number | undefined): number {
  try {
    const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** What a run against one server found. */
export interface ServeReport {
  readonly outcomes: SocketOutcome[];
  /** The honest peer's `certsync peer list` after the attacks: its exit status. */
  readonly honestStatus: number | null;
  /** What it said on standard error. */
  readonly honestSaid: string;
  readonly storeUnchanged: boolean;
  readonly integrity: string;
  readonly serverAlive: boolean;
  readonly serverPeakRssMb: number;
}

/** How long the server waits, in seconds, by its options (null: its defaults). */
export interface ServeWaits {
  readonly hello: number;
  readonly handshake: number;
  readonly idle: number;
}

const SECRET = formatPairingSecret(new Uint8Array(16).fill(0x5a));

/**
 * Starts a server over a store of four certificates and a CRL, plays every script, then
 * has an honest peer pair and list the store.
 */
export async function attackServe(
  dir: string,
  rounds: number,
  boundMs: number,
  waits: ServeWaits | null,
) {
  const pki = await buildStandardPki();
  const store = join(dir, 'server.sqlite');
  try {
    for (const name of ['alice', 'bob', 'root', 'intermediate'] as const) {
      await writeFile(join(dir, `${name}.pem`), pki[name].pem);
    }
    await writeFile(join(dir, 'crl.der'), pki.crl.bytes);
  } finally {
    await pki.cleanup();
  }
  const files = ['alice.pem', 'bob.pem', 'root.pem', 'intermediate.pem', 'crl.der'];
  for (const args of [
    ['init', '--store', store],
    ['import', '--store', store, ...files],
  ]) {
    const r = await runCertsync(args, dir);
    if (r.status !== 0) throw new Error(`certsync ${args[0]} failed: ${r.stderr}`);
  }
  const honest = join(dir, 'honest.sqlite');
  const init = await runCertsync(['init', '--store', honest], dir);
  if (init.status !== 0) throw new Error(`certsync init failed: ${init.stderr}`);
  const before = storeDigest(store);
  const args = ['--store', store, '--link', 'tcp', '--port', '0', '--json'];
  args.push('--pair', 'honest', '--secret', SECRET);
  if (waits) {
    args.push('--hello-timeout', String(waits.hello));
    args.push('--handshake-timeout', String(waits.handshake));
    args.push('--idle-timeout', String(waits.idle));
  }
  const serve = await ServeProcess.start(args, dir);
  const played: SocketOutcome[] = [];
  let alive = false;
  let peak = 0;
  let honestStatus: number | null = null;
  let honestSaid = '';
  let visits: string[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      for (const script of SOCKET_SCRIPTS) {
        played.push(await playSocketScript(serve.port, script, boundMs));
      }
    }
    const port = String(serve.port);
    const listing = await runCertsync(
      ['peer', 'list', '--store', honest, '--link', 'tcp', '--port', port].concat([
        '--pair',
        'server',
        '--secret',
        SECRET,
        '--json',
      ]),
      dir,
    );
    honestStatus = listing.status;
    honestSaid = listing.stderr.trim().slice(-300);
    alive = serve.child.exitCode === null && serve.child.signalCode === null;
    peak = peakRssKb(serve.child.pid);
  } finally {
    visits = (await serve.stop()).stdout.split('\n').filter((l) => l.startsWith('{'));
  }
  // One visit per connection, in order; the last is the honest peer's.
  const outcomes = played.map((o, i) => {
    const visit = visits[i] ? (JSON.parse(visits[i]) as { code?: string }) : {};
    return { ...o, code: visit.code ?? 'none' };
  });
  return {
    outcomes,
    honestStatus,
    honestSaid,
    storeUnchanged: storeDigest(store) === before,
    integrity: integrityCheck(store),
    serverAlive: alive,
    serverPeakRssMb: Math.round(peak / 1024),
  } satisfies ServeReport;
}
