/**
 * Test and benchmark helper: runs a peripheral and a central (test-peer.ts) as two
 * processes on one btvirt radio, and collects what each reported.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBtvirt } from './btvirt/harness.ts';

const PEER = join(dirname(fileURLToPath(import.meta.url)), 'test-peer.ts');

/** What one peer process printed as its `RESULT` line. */
export interface PeerResult {
  role: 'central' | 'peripheral';
  frames: number;
  bytes: number;
  /** Central only: milliseconds from the first send to the last echo checked. */
  ms?: number;
  /** Bytes per chunk this side sent: the negotiated ATT_MTU - 3. */
  chunkSize: number;
}

/** How a peer process ended. */
export interface Finished {
  code: number | null;
  output: string;
  result?: PeerResult;
}

/**
 * Starts one test-peer.ts process and adds it to `children` (the caller stops them by
 * PID); resolves when it exits, with what it printed.
 */
export function runPeer(
  role: 'central' | 'peripheral',
  tty: string,
  args: string[],
  children: ChildProcess[],
): Promise<Finished> {
  const child = spawn(process.execPath, ['--import', 'tsx', PEER, role, tty, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += String(d)));
  child.stderr.on('data', (d: Buffer) => (output += String(d)));
  return new Promise<Finished>((resolve) => {
    child.on('exit', (code) => {
      const line = output.split('\n').find((l) => l.startsWith('RESULT '));
      const result = line ? (JSON.parse(line.slice(7)) as PeerResult) : undefined;
      resolve({ code, output: output.slice(-4000), ...(result && { result }) });
    });
  });
}

/**
 * Echoes `bytes` of seeded random frames (at most `maxFrameSize` each) from a central
 * process through a peripheral process and back, every byte checked on both sides.
 * Starts and stops its own btvirt; every process it starts is stopped by PID, pass or fail.
 *
 * @throws Error with both peers' output when either did not finish cleanly
 */
export async function echoBetweenProcesses(
  bytes: number,
  maxFrameSize: number,
): Promise<{ central: PeerResult; peripheral: PeerResult }> {
  const btvirt = await startBtvirt();
  const children: ChildProcess[] = [];
  try {
    const ttyP = await btvirt.bridge('peripheral');
    const ttyC = await btvirt.bridge('central');
    const args = [String(bytes), String(maxFrameSize)];
    const peripheral = runPeer('peripheral', ttyP, args, children);
    const central = runPeer('central', ttyC, args, children);
    const [p, c] = await Promise.all([peripheral, central]);
    if (p.code !== 0 || c.code !== 0 || !p.result || !c.result) {
      throw new Error(
        `peers failed: central exit ${c.code}:\n${c.output}\nperipheral exit ${p.code}:\n${p.output}`,
      );
    }
    return { central: c.result, peripheral: p.result };
  } finally {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    await btvirt.stop();
  }
}
