/**
 * Test and benchmark peer: one side of a certsync BLE link in its own process.
 *
 *   node --import tsx test-peer.ts <central|peripheral> <hci tty> <bytes> <maxFrameSize>
 *
 * The central sends seeded pseudo-random frames adding up to <bytes> and checks every
 * byte of the echo; the peripheral checks every byte it receives against the same seeded
 * stream and echoes each frame. Each prints one line `RESULT {json}` and exits by itself,
 * with status 1 on any mismatch or link failure. After a result the process must end by
 * itself (status 3 if it is still alive 5 s later): the adapters' stop() must leave
 * nothing running.
 */
import { frameLengths, patternFrame } from '../compliance.ts';
import type { Link } from '../link.ts';
import { BleCentral } from './central.ts';
import { BlePeripheral } from './peripheral.ts';

const SEED = 1;
const WATCHDOG_MS = 100_000;

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

async function runCentral(tty: string, lengths: number[], maxFrameSize: number) {
  const central = await BleCentral.open({ hciPort: tty, link: { maxFrameSize } });
  try {
    const link = await central.connect();
    const started = performance.now();
    const sending = (async () => {
      for (let i = 0; i < lengths.length; i++) await link.send(patternFrame(SEED, i, lengths[i]!));
    })();
    await checkStream(link, lengths, 'echo');
    await sending;
    const ms = performance.now() - started;
    await link.close();
    return { frames: lengths.length, bytes: sum(lengths), ms, chunkSize: link.chunkSize };
  } finally {
    await central.stop();
  }
}

async function runPeripheral(tty: string, lengths: number[], maxFrameSize: number) {
  const peripheral = await BlePeripheral.open({ hciPort: tty, link: { maxFrameSize } });
  try {
    const link = await peripheral.accept();
    for (let i = 0; i < lengths.length; i++) {
      const frame = await link.receive();
      if (!frame) throw new Error(`the central closed after ${i} of ${lengths.length} frames`);
      if (!equal(frame, patternFrame(SEED, i, lengths[i]!))) throw new Error(`frame ${i} differs`);
      await link.send(frame);
    }
    const end = await link.receive();
    if (end !== null) throw new Error('a frame after the last one');
    await link.close();
    return { frames: lengths.length, bytes: sum(lengths), chunkSize: link.chunkSize };
  } finally {
    await peripheral.stop();
  }
}

async function checkStream(link: Link, lengths: number[], what: string) {
  for (let i = 0; i < lengths.length; i++) {
    const frame = await link.receive();
    if (!frame) throw new Error(`${what} ended after ${i} of ${lengths.length} frames`);
    if (!equal(frame, patternFrame(SEED, i, lengths[i]!))) throw new Error(`${what} ${i} differs`);
  }
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

async function main() {
  const [role, tty, bytesArg, maxArg] = process.argv.slice(2);
  const bytes = Number(bytesArg);
  const maxFrameSize = Number(maxArg);
  if (
    (role !== 'central' && role !== 'peripheral') ||
    !tty ||
    !(bytes > 0) ||
    !(maxFrameSize > 0)
  ) {
    throw new Error('usage: test-peer.ts <central|peripheral> <hci tty> <bytes> <maxFrameSize>');
  }
  const lengths = frameLengths(SEED, bytes, maxFrameSize);
  const result =
    role === 'central'
      ? await runCentral(tty, lengths, maxFrameSize)
      : await runPeripheral(tty, lengths, maxFrameSize);
  console.log(`RESULT ${JSON.stringify({ role, ...result })}`);
}

setTimeout(() => {
  console.error(`test-peer: no result within ${WATCHDOG_MS} ms`);
  process.exit(2);
}, WATCHDOG_MS).unref();

main().then(
  () => {
    // Everything is stopped: the process must now end by itself. If a library still holds
    // the event loop, say so and fail instead of hanging.
    setTimeout(() => {
      console.error('test-peer: still running 5 s after stop(); a handle was left open');
      process.exit(3);
    }, 5000).unref();
  },
  (error: unknown) => {
    console.error(`test-peer failed: ${error instanceof Error ? error.stack : String(error)}`);
    process.exit(1);
  },
);
