/**
 * The link the demo's two clients meet over: two kernel ptys joined by socat, with the
 * serial link on each end, when socat is installed; otherwise the Bluetooth LE link model
 * (1M PHY timing, in real time).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { CertsyncError } from '../../protocol/errors.ts';
import { realClock } from '../../transports/clock.ts';
import type { Link } from '../../transports/link.ts';
import { createModelLinkPair } from '../../transports/model/link-model.ts';
import { BLE_1M } from '../../transports/model/presets.ts';
import { SerialLink } from '../../transports/serial/serial-link.ts';
import { flushInput } from '../client/links.ts';

/** Both ends of one meeting. */
export interface DemoEnds {
  readonly pc: Link;
  readonly phone: Link;
}

/** The demo's line, on which the two clients can meet more than once. */
export interface DemoLink {
  /** For the reader: `serial ptys /dev/pts/3 <-> /dev/pts/4 (socat)`. */
  readonly description: string;
  /** A fresh link for the next meeting; the previous one must have ended. */
  open(): Promise<DemoEnds>;
  close(): Promise<void>;
}

function socatPath(): string | undefined {
  return ['/usr/bin/socat', '/bin/socat', '/usr/local/bin/socat'].find((p) => existsSync(p));
}

async function openPort(path: string): Promise<SerialPort> {
  const port = new SerialPort({ path, baudRate: 115_200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  port.on('error', () => undefined);
  return port;
}

/**
 * Opens the demo's link in `dir`.
 *
 * @throws CertsyncError `link-error` when socat is there but the ptys cannot be opened
 */
export async function openDemoLink(dir: string): Promise<DemoLink> {
  const socat = socatPath();
  if (!socat) {
    let last: DemoEnds | null = null;
    return {
      description: 'Bluetooth LE link model (1M PHY, 15 ms interval; socat not installed)',
      open: async () => {
        const pair = createModelLinkPair({ ...BLE_1M, maxFrameSize: 65_536 }, { clock: realClock });
        last = { pc: pair.a, phone: pair.b };
        return last;
      },
      close: async () => {
        const ends: DemoEnds | null = last;
        if (ends) await Promise.all([ends.pc.close(), ends.phone.close()]).catch(() => undefined);
      },
    };
  }
  const a = join(dir, 'pty-pc');
  const b = join(dir, 'pty-phone');
  const child = spawn(socat, [`PTY,link=${a},raw,echo=0`, `PTY,link=${b},raw,echo=0`], {
    stdio: 'ignore',
  });
  const stopSocat = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('close', r));
    child.kill('SIGTERM');
    await gone;
  };
  try {
    const started = Date.now();
    while (!(existsSync(a) && existsSync(b))) {
      if (Date.now() - started > 10_000 || child.exitCode !== null) {
        throw new CertsyncError('link-error', 'socat did not create the pty pair');
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const [pa, pb] = await Promise.all([openPort(a), openPort(b)]);
    let last: DemoEnds | null = null;
    return {
      description: `serial link over kernel ptys ${a} <-> ${b} (socat)`,
      open: async () => {
        // A new meeting starts clean: the last links have let go of the ports (a closed
        // serial link lingers to acknowledge its peer), and what they left is discarded.
        const previous: DemoEnds | null = last;
        if (previous) {
          await Promise.all([previous.pc.close(), previous.phone.close()]).catch(() => undefined);
        }
        await Promise.all([flushInput(pa), flushInput(pb)]);
        last = { pc: new SerialLink(pa), phone: new SerialLink(pb) };
        return last;
      },
      close: async () => {
        const ends: DemoEnds | null = last;
        if (ends) await Promise.all([ends.pc.close(), ends.phone.close()]).catch(() => undefined);
        await Promise.all(
          [pa, pb].map((p) => new Promise<void>((r) => (p.isOpen ? p.close(() => r()) : r()))),
        );
        await stopSocat();
      },
    };
  } catch (error) {
    await stopSocat();
    throw error;
  }
}
