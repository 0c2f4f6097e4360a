/**
 * Test helpers for real kernel pseudo-terminals: pty pairs made by socat, a relay that
 * damages bytes between two pairs, and a peer process at the far end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from './model/seeded-random.ts';
import { openSerialLine } from './serial/serialport-adapter.ts';

/** Waits until `child` exits, killing it with `signal` first unless it already exited. */
async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  await exited;
}

/** Two connected ptys, as a null-modem cable; `stop` ends socat and removes the folder. */
export interface PtyPair {
  a: string;
  b: string;
  /** Ends socat now: both ptys go away, as a pulled cable. */
  cut(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts `socat` with two raw ptys and waits (up to 10 s) until both exist. */
export async function startPtyPair(): Promise<PtyPair> {
  const dir = mkdtempSync(join(tmpdir(), 'certsync-pty-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  const socat = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: 'ignore',
  });
  const deadline = Date.now() + 10_000;
  while (!(existsSync(a) && existsSync(b))) {
    if (socat.exitCode !== null || Date.now() > deadline) {
      await stopProcess(socat, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`socat did not make ptys in ${dir}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    a,
    b,
    cut: () => stopProcess(socat),
    async stop() {
      await stopProcess(socat);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What a damaging relay did. */
export interface RelayStats {
  bytes: number;
  flipped: number;
  dropped: number;
}

/**
 * Copies bytes both ways between pty `x` and pty `y`, flipping one bit of a byte with
 * probability `flipRate` and dropping a byte with probability `dropRate`, from a seeded
 * generator. `outage(ms)` drops everything for the next `ms` milliseconds of wall time.
 */
export async function startDamagingRelay(
  x: string,
  y: string,
  options: { seed: number; flipRate: number; dropRate: number },
): Promise<{ stats: () => RelayStats; outage: (ms: number) => void; stop: () => Promise<void> }> {
  const random = seededRandom(options.seed);
  let darkUntil = 0;
  const stats: RelayStats = { bytes: 0, flipped: 0, dropped: 0 };
  const [lx, ly] = await Promise.all([openSerialLine(x), openSerialLine(y)]);
  const damage = (chunk: Buffer): Buffer => {
    const out = Buffer.alloc(chunk.length);
    let n = 0;
    const dark = Date.now() < darkUntil;
    for (const byte of chunk) {
      stats.bytes++;
      if (dark || random() < options.dropRate) {
        stats.dropped++;
        continue;
      }
      if (random() < options.flipRate) {
        stats.flipped++;
        out[n++] = byte ^ (1 << Math.floor(random() * 8));
      } else out[n++] = byte;
    }
    return out.subarray(0, n);
  };
  lx.stream.on('data', (c: Buffer) => ly.stream.write(damage(c)));
  ly.stream.on('data', (c: Buffer) => lx.stream.write(damage(c)));
  return {
    stats: () => ({ ...stats }),
    outage: (ms) => void (darkUntil = Date.now() + ms),
    stop: async () => void (await Promise.all([lx.close(), ly.close()])),
  };
}

/** What a peer process reports on its last line of output. */
export interface PeerReport {
  receivedBytes: number;
  stats: Record<string, number>;
}

/**
 * Runs `transports/test-pty-peer.ts` in a child Node process with `args`, and resolves with
 * its report once it exits with status 0 (rejects with its stderr otherwise). `kill` stops it.
 */
export function spawnPeer(args: Record<string, unknown>): {
  report: Promise<PeerReport>;
  kill: () => Promise<void>;
} {
  const script = join(import.meta.dirname, 'test-pty-peer.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(args)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const report = new Promise<PeerReport>((resolve, reject) => {
    child.once('exit', (code) => {
      if (code === 0) resolve(JSON.parse(out.trim().split('\n').pop()!) as PeerReport);
      else reject(new Error(`peer exited with ${code}: ${err}`));
    });
  });
  return { report, kill: () => stopProcess(child, 'SIGKILL') };
}
