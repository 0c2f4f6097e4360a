/**
 * The sync benchmark's end-to-end runs: certsync's reconcile between two processes
 * (e2e-peer.ts) over a real kernel pty pair made by socat, and over BLE through btvirt's
 * emulated controllers with real noble and bleno. Wall time on a shared machine, and
 * btvirt has no radio timing: these runs show the reconcile works across processes on the
 * real transports, and what it costs there; link speed claims come from the models.
 * Every process started here is stopped by its PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBtvirt } from '../../transports/ble/btvirt/harness.ts';
import { startPtyPair } from '../../transports/test-pty.ts';
import type { PeerReport } from './e2e-peer.ts';
import type { PairSpec } from './store-pairs.ts';

const PEER = join(dirname(fileURLToPath(import.meta.url)), 'e2e-peer.ts');

/** One end-to-end run. */
export interface EndToEndResult {
  readonly link: string;
  readonly spec: PairSpec;
  readonly ok: boolean;
  /** The slower side's wall time from link open to finish, in ms. */
  readonly wallMs: number;
  /** Bytes each way (discovery and entries together). */
  readonly aToB: number;
  readonly bToA: number;
  readonly error?: string;
}

function runPeer(args: string[], children: ChildProcess[]): Promise<PeerReport> {
  const child = spawn(process.execPath, ['--import', 'tsx', PEER, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += String(d)));
  child.stderr.on('data', (d: Buffer) => (output += String(d)));
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      const line = output.split('\n').find((l) => l.startsWith('RESULT '));
      if (code === 0 && line) resolve(JSON.parse(line.slice(7)) as PeerReport);
      else reject(new Error(`peer ${args[0]} exited ${code}: ${output.slice(-1500)}`));
    });
  });
}

async function pair(
  link: string,
  spec: PairSpec,
  open: () => Promise<{
    ttyA: string;
    ttyB: string;
    kind: 'serial' | 'ble';
    stop(): Promise<void>;
  }>,
  pool: number,
): Promise<EndToEndResult> {
  const children: ChildProcess[] = [];
  let stop: (() => Promise<void>) | undefined;
  try {
    const opened = await open();
    stop = () => opened.stop();
    const rest = [String(pool), String(spec.n), String(spec.d), spec.deletions ? '1' : '0'];
    // The peripheral (b) must advertise before the central (a) scans.
    const b = runPeer(['b', opened.kind, opened.ttyB, ...rest], children);
    const a = runPeer(['a', opened.kind, opened.ttyA, ...rest], children);
    const [ra, rb] = await Promise.all([a, b]);
    if (ra.root !== rb.root) throw new Error('the two stores differ after the reconcile');
    return {
      link,
      spec,
      ok: true,
      wallMs: Math.max(ra.wallMs, rb.wallMs),
      aToB: ra.sentDiscovery + ra.sentPayload,
      bToA: rb.sentDiscovery + rb.sentPayload,
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { link, spec, ok: false, wallMs: NaN, aToB: 0, bToA: 0, error: message };
  } finally {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    await stop?.();
  }
}

/**
 * Runs the case `spec` end to end over a socat pty pair and over btvirt. A run that cannot
 * start (no socat, no btvirt) or fails is reported with its error, not thrown.
 */
export async function runEndToEnd(pool: number, spec: PairSpec): Promise<EndToEndResult[]> {
  const serial = await pair(
    'serial over a socat pty pair',
    spec,
    async () => {
      const ptys = await startPtyPair();
      return { ttyA: ptys.a, ttyB: ptys.b, kind: 'serial', stop: () => ptys.stop() };
    },
    pool,
  );
  const ble = await pair(
    'BLE over btvirt (noble central, bleno peripheral)',
    spec,
    async () => {
      const btvirt = await startBtvirt();
      try {
        const ttyB = await btvirt.bridge('peripheral');
        const ttyA = await btvirt.bridge('central');
        return { ttyA, ttyB, kind: 'ble', stop: () => btvirt.stop() };
      } catch (error) {
        await btvirt.stop();
        throw error;
      }
    },
    pool,
  );
  return [serial, ble];
}
