/**
 * The far end of the two-process pty tests: opens a pty, runs a serial or IrDA link on
 * it, sends one seeded stream of frames while checking every byte of the other, closes
 * cleanly and prints a JSON report. Exits 1 with a message on any mismatch or failure.
 *
 * Usage: node --import tsx transports/test-pty-peer.ts '{"kind":"serial","path":...}'
 */
import { frameLengths, patternFrame } from './compliance.ts';
import type { Link } from './link.ts';
import { openSerialLine } from './serial/serialport-adapter.ts';
import { SerialLink } from './serial/serial-link.ts';
import { IrdaLink, type IrdaLinkOptions } from './irda/irda-link.ts';

interface PeerArgs {
  kind: 'serial' | 'irda';
  irda?: IrdaLinkOptions;
  path: string;
  sendSeed: number;
  receiveSeed: number;
  bytes: number;
  maxFrame: number;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as PeerArgs;
  const line = await openSerialLine(args.path);
  const link: Link & { stats(): object } =
    args.kind === 'irda' && args.irda
      ? new IrdaLink(line.stream, { ...args.irda, maxFrameSize: args.maxFrame })
      : new SerialLink(line.stream, { deadPeerMs: 30_000, maxFrameSize: args.maxFrame });
  const outgoing = frameLengths(args.sendSeed, args.bytes, args.maxFrame);
  const incoming = frameLengths(args.receiveSeed, args.bytes, args.maxFrame);
  let receivedBytes = 0;
  const sending = (async () => {
    for (let i = 0; i < outgoing.length; i++)
      await link.send(patternFrame(args.sendSeed, i, outgoing[i]!));
  })();
  for (let i = 0; i < incoming.length; i++) {
    const frame = await link.receive();
    const expected = patternFrame(args.receiveSeed, i, incoming[i]!);
    if (!frame || frame.length !== expected.length || !frame.every((b, k) => b === expected[k])) {
      throw new Error(`frame ${i} differs: got ${frame ? frame.length : 'end'} bytes`);
    }
    receivedBytes += frame.length;
  }
  await sending;
  await link.close();
  await line.close();
  console.log(JSON.stringify({ receivedBytes, stats: link.stats() }));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.stack : String(error));
    process.exit(1);
  },
);
