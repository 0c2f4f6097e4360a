/**
 * Fuzz part `fuzz-serve`: a listening `certsync serve --link tcp` on 127.0.0.1 fed mutated
 * frames, one connection per input. Each connection waits for the server's hello, sends a
 * mutation of a valid hello (the server's own, or a hello as the client sends it), and, when
 * the server is still listening after it, a mutation of a handshake's first frame. A server
 * that still waits then is left by the fuzzer (its visit ends `link-closed`), except on
 * every {@link PATIENT_EVERY}-th such input, where the server must cut the connection off
 * itself within the bound of its own waits. Every visit must be reported with an error code
 * of the closed set (never `internal`, never a session); the server must stay up, stay
 * within {@link SERVE_RSS_MB}, and leave its store unchanged and whole.
 *
 * The server answers one peer at a time, so connections run one after another and the
 * server's n-th visit line belongs to the n-th input.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { integrityCheck, runCertsync, ServeProcess } from '../../node/client/test-processes.ts';
import { Store } from '../../node/store/index.ts';
import { isErrorCode } from '../../protocol/errors.ts';
import { encodeHandshakeFrame } from '../../protocol/secure/frames.ts';
import { seededRandom } from '../../transports/model/seeded-random.ts';
import { makeMutator } from './fuzz-harness.ts';
import { emptyResult, fail, type PartContext, type PartResult } from './part.ts';

/** Largest resident memory of the server under fuzz, in MiB (a full run peaks near 160). */
export const SERVE_RSS_MB = 250;
/** The server's waits, in seconds: short, so that a stalled input costs little. */
const HELLO_S = 0.5;
const HANDSHAKE_S = 0.5;
/** How long one connection may stay open, in ms: both waits and a margin for a busy machine. */
const BOUND_MS = (HELLO_S + HANDSHAKE_S) * 1000 + 4_000;
/** How long the fuzzer waits for a close after the first frame, then after the second. */
const SECOND_FRAME_MS = 10;
const LEAVE_MS = 20;
/** Every n-th input the server still holds is held on to until the server cuts it off. */
const PATIENT_EVERY = 20;

const framed = (payload: Uint8Array): Buffer => {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(payload.length);
  return Buffer.concat([head, payload]);
};

/** What one connection did: closed by the server, left by the fuzzer, or held too long. */
interface Outcome {
  readonly end: 'closed' | 'left' | 'held';
  /** Since the first frame was sent. */
  readonly afterMs: number;
  readonly secondSent: boolean;
}

/**
 * One connection: waits for the server's hello (handed to `first`, which returns the first
 * input), sends it, then `second` unless the server closed first; then leaves, or with
 * `patient` waits for the server to close.
 */
function onePeer(
  port: number,
  first: (serverHello: Uint8Array) => Uint8Array,
  second: Uint8Array,
  patient: boolean,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let got = Buffer.alloc(0);
    let sentAt = 0;
    let secondSent = false;
    let done = false;
    let follow: NodeJS.Timeout | undefined;
    const end = (how: Outcome['end']) => {
      if (done) return;
      done = true;
      clearTimeout(limit);
      clearTimeout(follow);
      socket.destroy();
      resolve({ end: how, afterMs: sentAt === 0 ? 0 : Date.now() - sentAt, secondSent });
    };
    const limit = setTimeout(() => end('held'), BOUND_MS);
    socket.on('error', () => undefined);
    socket.on('close', () => end('closed'));
    socket.on('data', (chunk: Buffer) => {
      if (sentAt !== 0) return;
      got = Buffer.concat([got, chunk]);
      if (got.length < 4 || got.length < 4 + got.readUInt32BE(0)) return;
      sentAt = Date.now();
      socket.write(framed(first(got.subarray(4, 4 + got.readUInt32BE(0)))));
      follow = setTimeout(() => {
        if (!socket.writable) return;
        secondSent = true;
        socket.write(framed(second));
        if (!patient) follow = setTimeout(() => end('left'), LEAVE_MS);
      }, SECOND_FRAME_MS);
    });
  });
}

function peakRssMb(pid: number | undefined): number {
  try {
    const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

function entriesOf(path: string): string {
  const s = Store.open(path);
  try {
    return JSON.stringify(s.sync.entries().length) + JSON.stringify(s.peers.list());
  } finally {
    s.close();
  }
}

/** Runs the part over at most `inputs` connections and `seconds`. */
export async function fuzzServe(
  ctx: PartContext,
  inputs: number,
  seconds: number,
): Promise<PartResult> {
  const result = emptyResult('fuzz-serve');
  const t0 = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'certsync-fuzz-serve-'));
  try {
    const store = join(dir, 'server.sqlite');
    const init = await runCertsync(['init', '--store', store], dir);
    if (init.status !== 0) throw new Error(`certsync init failed: ${init.stderr}`);
    const before = entriesOf(store);
    const serve = await ServeProcess.start(
      ['--store', store, '--link', 'tcp', '--port', '0', '--json'].concat([
        '--hello-timeout',
        String(HELLO_S),
        '--handshake-timeout',
        String(HANDSHAKE_S),
      ]),
      dir,
    );
    const random = seededRandom(ctx.seed + 7);
    const mutate = makeMutator(random);
    const handshakeSeed: Uint8Array = encodeHandshakeFrame(
      'session-xx',
      Uint8Array.from({ length: 32 }, () => Math.floor(random() * 256)),
    );
    const sent: Uint8Array[] = [];
    let slowest = 0;
    let secondFrames = 0;
    let left = 0;
    let waitedOut = 0;
    let visits: string[] = [];
    try {
      const deadline = t0 + seconds * 1000;
      while (result.inputs < inputs && performance.now() < deadline) {
        let input: Uint8Array = new Uint8Array(0);
        const second = mutate(handshakeSeed, handshakeSeed);
        const patient = secondFrames % PATIENT_EVERY === PATIENT_EVERY - 1;
        const o = await onePeer(
          serve.port,
          (hello) => (input = mutate(hello, second)),
          second,
          patient,
        );
        result.inputs++;
        sent.push(input);
        if (o.secondSent) secondFrames++;
        if (o.end === 'left') left++;
        if (patient && o.secondSent) waitedOut++;
        slowest = Math.max(slowest, o.afterMs);
        if (o.end === 'held') {
          fail(result, 'serve', `the server held a connection past ${BOUND_MS} ms`, input);
        }
        if (serve.child.exitCode !== null || serve.child.signalCode !== null) {
          fail(result, 'serve', 'the server died', input);
          break;
        }
        if (result.inputs % 256 === 0) ctx.memory.sample();
      }
      result.figures['serve peak RSS MiB'] = peakRssMb(serve.child.pid);
    } finally {
      visits = (await serve.stop()).stdout.split('\n').filter((l) => l.startsWith('{"peer"'));
    }
    const codes = new Map<string, number>();
    for (const [i, line] of visits.entries()) {
      const v = JSON.parse(line) as { error: string | null; code?: string };
      codes.set(v.code ?? 'none', (codes.get(v.code ?? 'none') ?? 0) + 1);
      if (v.error === null || !isErrorCode(v.code) || v.code === 'internal') {
        fail(result, 'visit', `ended with ${v.code ?? 'no error'}: ${v.error}`, sent[i]);
      }
    }
    if (visits.length !== result.inputs) {
      fail(result, 'serve', `${visits.length} visits reported for ${result.inputs} connections`);
    }
    for (const [code, n] of [...codes].sort()) result.figures[`visits ended ${code}`] = n;
    result.figures['inputs the server still held after the first frame'] = secondFrames;
    result.figures['inputs left by the fuzzer'] = left;
    result.figures['inputs held until the server cut them off'] = waitedOut;
    result.figures['slowest close ms'] = slowest;
    if (Number(result.figures['serve peak RSS MiB']) > SERVE_RSS_MB) {
      fail(result, 'serve', `server peak RSS ${result.figures['serve peak RSS MiB']} MiB`);
    }
    if (entriesOf(store) !== before) fail(result, 'serve', 'the server store changed');
    const integrity = integrityCheck(store);
    if (integrity !== 'ok') fail(result, 'serve', `integrity_check: ${integrity}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  result.seconds = (performance.now() - t0) / 1000;
  return result;
}
