/**
 * Emulated Bluetooth LE controllers for tests and benchmarks: BlueZ's `btvirt` serving
 * controllers on unix sockets, and one socat pty per client that bridges the socket to a
 * tty path, which noble's and bleno's UART HCI drivers open.
 *
 * Every controller of one btvirt process shares one virtual radio, so a peripheral on one
 * bridge is seen and connected by a central on another. Timing through btvirt is not a
 * radio's: no connection intervals, no loss, RSSI always 127. Use it for correctness;
 * take link speed from the link models.
 *
 * This kernel lacks AF_ALG, so btvirt runs with the preload library built from
 * preload.c beside this file (see there why). The library also moves btvirt's fixed
 * /tmp sockets into a private folder, so concurrent runs do not share a radio.
 * Everything started here is stopped by its PID.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger, type Logger } from '../../link.ts';

const PRELOAD_SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'preload.c');

/** The programs the emulation needs, and where to get them on Debian. */
const TOOLS = [
  { name: 'btvirt', debian: 'bluez-test-tools' },
  { name: 'socat', debian: 'socat' },
  { name: 'gcc', debian: 'gcc libc6-dev' },
] as const;

/** Absolute path of `name` on PATH (and the sbin folders), or undefined. */
export function findExecutable(name: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/sbin']);
  for (const dir of dirs) {
    if (!dir) continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/**
 * Why BLE emulation cannot run here, or undefined when it can: names each missing program
 * and the Debian package that has it.
 */
export function missingTools(): string | undefined {
  const missing = TOOLS.filter((t) => !findExecutable(t.name));
  if (missing.length === 0) return undefined;
  const names = missing.map((t) => t.name).join(', ');
  const packages = missing.map((t) => t.debian).join(' ');
  return `BLE emulation needs ${names}: install with apt-get install ${packages}`;
}

/**
 * Builds the preload library if this version of its source has not been built yet, and
 * returns its path. Concurrent builders each write a temporary file and rename it.
 *
 * @throws Error naming gcc's complaint when the build fails
 */
export function buildPreload(): string {
  const source = readFileSync(PRELOAD_SOURCE);
  const digest = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'certsync-btvirt-preload');
  const target = join(dir, `preload-${digest}.so`);
  if (existsSync(target)) return target;
  mkdirSync(dir, { recursive: true });
  const partial = `${target}.${process.pid}.tmp`;
  const gcc = spawnSync('gcc', ['-shared', '-fPIC', '-O2', '-o', partial, PRELOAD_SOURCE, '-ldl'], {
    encoding: 'utf8',
  });
  if (gcc.status !== 0) {
    throw new Error(`gcc could not build the btvirt preload library: ${gcc.stderr || gcc.error}`);
  }
  renameSync(partial, target);
  return target;
}

/** A running btvirt with its bridges. */
export interface Btvirt {
  /** The private folder holding btvirt's sockets and the pty links. */
  readonly dir: string;
  /** PIDs of btvirt and of every socat bridge, for the record. */
  readonly pids: readonly number[];
  /**
   * Starts a socat bridge to a new LE controller and resolves with the tty path that a
   * noble or bleno process opens. Each client needs its own bridge.
   */
  bridge(name: string): Promise<string>;
  /** Kills every socat bridge, then btvirt, by PID, and removes the folder. */
  stop(): Promise<void>;
}

/**
 * Starts btvirt with the preload library in a fresh private folder.
 *
 * @throws Error when a program is missing (naming its Debian package), when the preload
 *   library does not build, or when btvirt does not come up within `timeoutMs`
 */
export async function startBtvirt(
  options: { logger?: Logger; timeoutMs?: number } = {},
): Promise<Btvirt> {
  const missing = missingTools();
  if (missing) throw new Error(missing);
  const log = options.logger ?? silentLogger;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const preload = buildPreload();
  const dir = await mkdtemp(join(tmpdir(), 'certsync-btvirt-'));
  // A unix socket path holds at most 107 bytes; a longer one would leave btvirt on /tmp.
  if (join(dir, 'bt-server-bredrle').length > 107) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`temporary folder ${dir} is too long for unix socket paths; set TMPDIR`);
  }
  const children: ChildProcess[] = [];
  const killAll = () => {
    for (const child of children.slice().reverse()) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  };
  // A test that dies must not leave btvirt or socat behind.
  process.once('exit', killAll);

  const stderr: string[] = [];
  const btvirt = spawn('btvirt', ['-s', '-l0'], {
    env: { ...process.env, LD_PRELOAD: preload, CERTSYNC_BTVIRT_DIR: dir },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(btvirt);
  btvirt.stderr?.on('data', (d: Buffer) => stderr.length < 50 && stderr.push(String(d)));
  const stop = async () => {
    process.removeListener('exit', killAll);
    for (const child of children.slice().reverse()) await stopChild(child);
    await rm(dir, { recursive: true, force: true });
  };

  const socket = join(dir, 'bt-server-le');
  try {
    await waitFor(
      () => existsSync(socket),
      timeoutMs,
      () => btvirt.exitCode !== null,
    );
  } catch (error) {
    await stop();
    throw new Error(`btvirt did not come up: ${stderr.join('').trim() || String(error)}`);
  }
  log.info(`btvirt ${btvirt.pid} serving in ${dir}`);

  return {
    dir,
    get pids() {
      return children.map((c) => c.pid ?? -1);
    },
    async bridge(name) {
      if (!/^[a-z0-9-]+$/.test(name)) throw new RangeError(`expected a plain name, got ${name}`);
      const tty = join(dir, name);
      const socat = spawn('socat', [`PTY,link=${tty},raw,echo=0`, `UNIX-CONNECT:${socket}`], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      children.push(socat);
      const said: string[] = [];
      socat.stderr?.on('data', (d: Buffer) => said.length < 20 && said.push(String(d)));
      await waitFor(
        () => existsSync(tty),
        timeoutMs,
        () => socat.exitCode !== null,
      ).catch((error: unknown) => {
        throw new Error(`socat bridge ${name} did not come up: ${said.join('') || error}`);
      });
      log.info(`socat ${socat.pid} bridges ${tty}`);
      return tty;
    },
    stop,
  };
}

/** Polls `ready` every 20 ms; rejects after `ms` or as soon as `dead()` is true. */
async function waitFor(ready: () => boolean, ms: number, dead: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (!ready()) {
    if (dead()) throw new Error('the process exited');
    if (Date.now() > until) throw new Error(`not ready after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** SIGTERM, then SIGKILL after two seconds; resolves once the child exited. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(timer);
}
