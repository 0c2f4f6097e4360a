/**
 * The serial link over real kernel ptys made by socat: the compliance suite in one process,
 * then two processes moving 1 MB each way, clean and through a relay that damages bytes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { frameLengths, patternFrame, runLinkCompliance } from '../compliance.ts';
import { spawnPeer, startDamagingRelay, startPtyPair } from '../test-pty.ts';
import { openSerialPortLink } from './serialport-adapter.ts';

const MB = 1024 * 1024;

runLinkCompliance('serial over socat ptys', async () => {
  const pty = await startPtyPair();
  const tuning = { deadPeerMs: 4000, keepaliveMs: 200 };
  const [a, b] = await Promise.all([
    openSerialPortLink(pty.a, tuning),
    openSerialPortLink(pty.b, tuning),
  ]);
  return {
    a,
    b,
    cut: () => pty.cut(),
    cleanup: async () => {
      await Promise.allSettled([a.close(), b.close()]);
      await pty.stop();
    },
  };
});

/** This process and a child each send 1 MB of seeded frames and check every byte. */
async function exchange(here: string, there: string) {
  const maxFrame = 16384;
  const peer = spawnPeer({
    kind: 'serial',
    path: there,
    sendSeed: 21,
    receiveSeed: 12,
    bytes: MB,
    maxFrame,
  });
  peer.report.catch(() => {}); // awaited below; a failure here must not hide the first
  try {
    const link = await openSerialPortLink(here, { deadPeerMs: 30_000, maxFrameSize: maxFrame });
    const outgoing = frameLengths(12, MB, maxFrame);
    const incoming = frameLengths(21, MB, maxFrame);
    const sending = (async () => {
      for (let i = 0; i < outgoing.length; i++) await link.send(patternFrame(12, i, outgoing[i]!));
    })();
    sending.catch(() => {}); // awaited below
    let received = 0;
    for (let i = 0; i < incoming.length; i++) {
      const frame = await link.receive();
      assert.ok(frame, `frame ${i} arrived`);
      assert.ok(Buffer.from(frame).equals(patternFrame(21, i, incoming[i]!)), `frame ${i} intact`);
      received += frame.length;
    }
    await sending;
    const report = await peer.report;
    await link.close();
    return { received, report, stats: link.stats() };
  } finally {
    await peer.kill();
  }
}

test(
  'serial: two processes over socat ptys each move 1 MB, every byte checked',
  { timeout: 120_000 },
  async () => {
    const pty = await startPtyPair();
    try {
      const { received, report } = await exchange(pty.a, pty.b);
      assert.ok(received >= MB && report.receivedBytes >= MB);
    } finally {
      await pty.stop();
    }
  },
);

test(
  'serial: through a relay that flips bits and drops bytes, every damaged frame is caught and resent',
  { timeout: 120_000 },
  async () => {
    const near = await startPtyPair();
    const far = await startPtyPair();
    const relay = await startDamagingRelay(near.b, far.a, {
      seed: 5,
      flipRate: 2e-5,
      dropRate: 5e-6,
    });
    try {
      const { received, report, stats } = await exchange(near.a, far.b);
      assert.ok(received >= MB && report.receivedBytes >= MB);
      const damage = relay.stats();
      assert.ok(damage.flipped + damage.dropped > 20, `relay damaged ${JSON.stringify(damage)}`);
      const caught = stats.badFrames + report.stats.badFrames!;
      const resent = stats.retransmissions + report.stats.retransmissions!;
      assert.ok(caught > 10, `damaged frames caught: ${caught}`);
      assert.ok(resent >= caught / 2, `resent ${resent} for ${caught} damaged`);
    } finally {
      await relay.stop();
      await Promise.all([near.stop(), far.stop()]);
    }
  },
);
