/**
 * Test helpers that run the real `certsync` command in separate processes: one-shot
 * commands, a long-lived `certsync serve`, and a pair of kernel ptys joined by socat. Every
 * process is bounded in time and stopped by its PID.
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The installed command's entry point. */
export const CERTSYNC_BIN = join(dirname(fileURLToPath(import.meta.url)), '../../bin/certsync.js');

/** How a process ended and what it printed. */
export interface ProcessResult {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

function collect(child: ChildProcess, timeoutMs: number, what: string): Promise<ProcessResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      if (child.pid !== undefined) child.kill('SIGKILL');
      reject(new Error(`${what}: still running after ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

/**
 * Runs `certsync ARGS` in `cwd` and waits for it (at most `timeoutMs`).
 *
 * @throws Error when it does not end in time (it is killed)
 */
export function runCertsync(
  args: readonly string[],
  cwd: string,
  timeoutMs = 90_000,
): Promise<ProcessResult> {
  const { child, result } = spawnCertsync(args, cwd, timeoutMs);
  child.stdin?.end();
  return result;
}

/**
 * Starts `certsync ARGS` in `cwd` with its standard input open for the test to write to;
 * `result` settles when it ends (it is killed after `timeoutMs`).
 */
export function spawnCertsync(
  args: readonly string[],
  cwd: string,
  timeoutMs = 90_000,
): { child: ChildProcess; result: Promise<ProcessResult> } {
  const child = spawn(process.execPath, [CERTSYNC_BIN, ...args], {
    cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, CERTSYNC_STORE: '' },
  });
  return { child, result: collect(child, timeoutMs, `certsync ${args.join(' ')}`) };
}

/** Runs `certsync ARGS --json` and parses its standard output; asserts the exit status. */
export async function certsyncJson<T = unknown>(
  args: readonly string[],
  cwd: string,
  expectStatus = 0,
): Promise<T> {
  const r = await runCertsync([...args, '--json'], cwd);
  if (r.status !== expectStatus) {
    throw new Error(
      `certsync ${args.join(' ')}: exit ${r.status}, expected ${expectStatus}\n${r.stderr}`,
    );
  }
  return JSON.parse(r.stdout) as T;
}

/** A `certsync serve` running in its own process. */
export class ServeProcess {
  readonly child: ChildProcess;
  /** Where it listens, from its first line: `tcp 127.0.0.1:40123`, `serial /dev/pts/4`. */
  readonly address: string;
  private readonly done: Promise<ProcessResult>;

  private constructor(child: ChildProcess, address: string, done: Promise<ProcessResult>) {
    this.child = child;
    this.address = address;
    this.done = done;
  }

  /** The TCP port it listens on. */
  get port(): number {
    return Number(this.address.split(':').pop());
  }

  /**
   * Starts `certsync serve ARGS` and waits (at most `timeoutMs`) until it listens.
   *
   * @throws Error when it exits or stays silent instead
   */
  static async start(args: readonly string[], cwd: string, timeoutMs = 60_000) {
    const child = spawn(process.execPath, [CERTSYNC_BIN, 'serve', ...args], {
      cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const done = collect(child, 600_000, 'certsync serve');
    done.catch(() => undefined);
    const address = await new Promise<string>((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`certsync serve did not listen within ${timeoutMs} ms: ${seen}`));
      }, timeoutMs);
      child.stderr?.on('data', (d: Buffer) => {
        seen += d.toString();
        const m = /listening on (.+)\n/.exec(seen);
        if (m) {
          clearTimeout(timer);
          resolve(m[1] as string);
        }
      });
      child.on('close', () => {
        clearTimeout(timer);
        reject(new Error(`certsync serve exited before listening: ${seen}`));
      });
    });
    return new ServeProcess(child, address, done);
  }

  /** Waits for it to end by itself (`--once`). */
  exited(): Promise<ProcessResult> {
    return this.done;
  }

  /** Stops it with SIGTERM (SIGKILL after `graceMs`) and returns what it printed. */
  async stop(graceMs = 30_000): Promise<ProcessResult> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      try {
        return await this.done;
      } finally {
        clearTimeout(timer);
      }
    }
    return this.done;
  }
}

/** Two kernel ptys joined by socat, like the two ends of a null-modem cable. */
export interface PtyPair {
  readonly a: string;
  readonly b: string;
  stop(): Promise<void>;
}

/** True when socat is installed. */
export function haveSocat(): boolean {
  return ['/usr/bin/socat', '/bin/socat', '/usr/local/bin/socat'].some((p) => existsSync(p));
}

/**
 * Starts socat with two ptys linked at `<dir>/pty-a` and `<dir>/pty-b`.
 *
 * @throws Error when socat does not make them within `timeoutMs`
 */
export async function startPtyPair(dir: string, timeoutMs = 10_000): Promise<PtyPair> {
  if (!haveSocat()) {
    throw new Error('socat is not installed: these tests need the Debian package socat (.ci/run)');
  }
  const a = join(dir, 'pty-a');
  const b = join(dir, 'pty-b');
  const child = spawn('socat', [`PTY,link=${a},raw,echo=0`, `PTY,link=${b},raw,echo=0`], {
    stdio: 'ignore',
  });
  const started = Date.now();
  while (!(existsSync(a) && existsSync(b))) {
    if (Date.now() - started > timeoutMs || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error('socat did not create the pty pair');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    a,
    b,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once('close', r));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

/** A phone served on a serial pty pair and paired with a PC, as servePairedOnSerial leaves them. */
export interface PairedOnSerial {
  /** The PC's store and link options for every later command. */
  readonly link: readonly string[];
  readonly serve: ServeProcess;
  /** Stops the serve, then the ptys; what the serve printed. */
  stop(): Promise<ProcessResult>;
}

/**
 * Serves the `phone` store (`serve --pair pc` with the PC's one-time secret, and
 * `serveArgs`) on a fresh serial pty pair in `dir`, and pairs the `pc` store with it by
 * `connect --pair phone --auto off`.
 *
 * @throws Error when the pairing does not succeed (the serve and the ptys are stopped)
 */
export async function servePairedOnSerial(
  dir: string,
  pc: string,
  phone: string,
  serveArgs: readonly string[] = [],
): Promise<PairedOnSerial> {
  const { secret } = await certsyncJson<{ secret: string }>(['id', '--store', pc, '--secret'], dir);
  const ptys = await startPtyPair(dir);
  const serve = await ServeProcess.start(
    ['--store', phone, '--link', 'serial', '--device', ptys.b, '--pair', 'pc'].concat([
      '--secret',
      secret,
      ...serveArgs,
    ]),
    dir,
  );
  const stop = async () => {
    const served = await serve.stop();
    await ptys.stop();
    return served;
  };
  const link = ['--store', pc, '--link', 'serial', '--device', ptys.a];
  const paired = await runCertsync(
    ['connect', ...link, '--pair', 'phone', '--secret', secret, '--auto', 'off'],
    dir,
  );
  if (paired.status !== 0) {
    await stop();
    throw new Error(`pairing over the serial pty pair failed: ${paired.stderr}`);
  }
  return { link, serve, stop };
}

/** SQLite's own `integrity_check` of a store file: `ok` when whole. */
export function integrityCheck(path: string): string {
  const db = new Database(path, { readonly: true });
  try {
    return String(db.pragma('integrity_check', { simple: true }));
  } finally {
    db.close();
  }
}
