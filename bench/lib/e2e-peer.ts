/**
 * One side of the sync benchmark's end-to-end run, in a process of its own:
 *
 *   node --import tsx bench/lib/e2e-peer.ts <a|b> <serial|ble> <tty> <pool> <n> <d> <deletions 0|1>
 *
 * Builds the benchmark's store pair (the same on both sides, from the cached pool), keeps
 * its own store, opens the link (serial: certsync's serial framing on the pty; ble: side a
 * is the noble central, side b the bleno peripheral, on a btvirt controller tty) and runs
 * certsync's reconcile over it with a thin runner of its own: the benchmark drives the
 * reconcile engine directly, without the client's session (no pairing, no encryption).
 * Prints one line `RESULT {json}` with its wall time, bytes sent and final digest root,
 * and exits; status 1 on any failure.
 */
import { toHex } from '../../protocol/merge/entry.ts';
import { BleCentral } from '../../transports/ble/central.ts';
import { BlePeripheral } from '../../transports/ble/peripheral.ts';
import type { Link } from '../../transports/link.ts';
import { openSerialPortLink } from '../../transports/serial/serialport-adapter.ts';
import { openCertificatePool } from './certificates.ts';
import { CertsyncSide, countStore } from './certsync-scheme.ts';
import type { Outgoing, SchemeSide } from './scheme.ts';
import { buildPair } from './store-pairs.ts';

const WATCHDOG_MS = 240_000;

/** What one side printed. */
export interface PeerReport {
  role: 'a' | 'b';
  wallMs: number;
  sentDiscovery: number;
  sentPayload: number;
  root: string;
}

/** Runs `side` on `link` until it finishes; a writer of its own keeps reading unblocked. */
async function runSide(
  side: SchemeSide,
  link: Link,
): Promise<{ discovery: number; payload: number }> {
  const sent = { discovery: 0, payload: 0 };
  const queue: Outgoing[] = [];
  let wake: (() => void) | null = null;
  let closed = false;
  const writer = (async () => {
    for (;;) {
      const next = queue.shift();
      if (next === undefined) {
        if (closed) return;
        await new Promise<void>((r) => (wake = r));
        continue;
      }
      await link.send(next.frame);
    }
  })();
  const enqueue = (outs: Outgoing[]): void => {
    for (const o of outs) {
      if (o.payload) sent.payload += o.frame.length;
      else sent.discovery += o.frame.length;
      queue.push(o);
    }
    const w = wake;
    wake = null;
    w?.();
  };
  enqueue(side.start());
  while (!side.finished) {
    const frame = await link.receive();
    if (frame === null) throw new Error('the link ended before the reconcile finished');
    enqueue(side.receive(frame));
  }
  closed = true;
  const w = wake as (() => void) | null;
  w?.();
  await writer;
  return sent;
}

async function main(): Promise<void> {
  const [role, kind, tty, poolArg, nArg, dArg, delArg] = process.argv.slice(2);
  if ((role !== 'a' && role !== 'b') || (kind !== 'serial' && kind !== 'ble') || !tty) {
    throw new TypeError(
      `expected <a|b> <serial|ble> <tty> <pool> <n> <d> <0|1>, got ${process.argv.slice(2).join(' ')}`,
    );
  }
  const pool = openCertificatePool(Number(poolArg));
  const spec = { n: Number(nArg), d: Number(dArg), deletions: delArg === '1' };
  const [a, b] = buildPair(pool, spec);
  const store = role === 'a' ? a : b;
  const side = new CertsyncSide(store, countStore(store));

  let link: Link;
  let release: () => Promise<void>;
  if (kind === 'serial') {
    const port = await openSerialPortLink(tty, { deadPeerMs: 60_000 });
    link = port;
    release = () => port.close();
  } else if (role === 'a') {
    const central = await BleCentral.open({ hciPort: tty });
    link = await central.connect({ timeoutMs: 30_000 });
    release = async () => {
      await link.close().catch(() => undefined);
      await central.stop();
    };
  } else {
    const peripheral = await BlePeripheral.open({ hciPort: tty });
    link = await peripheral.accept();
    release = async () => {
      await link.close().catch(() => undefined);
      await peripheral.stop();
    };
  }
  const t0 = performance.now();
  const sent = await runSide(side, link);
  const wallMs = performance.now() - t0;
  await release();
  pool.close();
  const report: PeerReport = {
    role,
    wallMs,
    sentDiscovery: sent.discovery,
    sentPayload: sent.payload,
    root: toHex(store.digest().root),
  };
  console.log(`RESULT ${JSON.stringify(report)}`);
}

const watchdog = setTimeout(() => {
  console.error(`e2e peer: still running after ${WATCHDOG_MS} ms`);
  process.exit(1);
}, WATCHDOG_MS);
watchdog.unref();
main().then(
  () => setTimeout(() => process.exit(0), 200).unref(),
  (error: unknown) => {
    console.error(`e2e peer failed: ${error instanceof Error ? error.stack : String(error)}`);
    process.exit(1);
  },
);
