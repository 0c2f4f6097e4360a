/**
 * The IrDA link over real kernel ptys made by socat: the compliance suite in one process,
 * then two processes moving 1 MB each way through a relay that flips bits, drops bytes and
 * blocks the path for a moment.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { frameLengths, patternFrame, runLinkCompliance } from '../compliance.ts';
import { openSerialLine } from '../serial/serialport-adapter.ts';
import { spawnPeer, startDamagingRelay, startPtyPair } from '../test-pty.ts';
import { IrdaLink, type IrdaLinkOptions } from './irda-link.ts';
import { openIrdaPortLink } from './irda-port.ts';

const MB = 1024 * 1024;

// Ptys move bytes far faster than SIR; a short turn keeps the poll interval short.
const TUNING = { bitRate: 1_000_000, maxTurnaroundMs: 100, disconnectMs: 4000 };

runLinkCompliance('IrDA over socat ptys', async () => {
  const pty = await startPtyPair();
  const [a, b] = await Promise.all([
    openIrdaPortLink(pty.a, { role: 'primary', ...TUNING }),
    openIrdaPortLink(pty.b, { role: 'secondary', ...TUNING }),
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

test(
  'IrDA: two processes over socat ptys each move 1 MB through bit flips, drops and an outage',
  { timeout: 180_000 },
  async () => {
    const near = await startPtyPair();
    const far = await startPtyPair();
    const relay = await startDamagingRelay(near.b, far.a, {
      seed: 9,
      flipRate: 1e-5,
      dropRate: 2e-6,
    });
    const maxFrame = 16384;
    const irda: IrdaLinkOptions = { role: 'secondary', ...TUNING, disconnectMs: 10_000 };
    const peer = spawnPeer({
      kind: 'irda',
      irda,
      path: far.b,
      sendSeed: 41,
      receiveSeed: 14,
      bytes: MB,
      maxFrame,
    });
    peer.report.catch(() => {}); // awaited below; a failure here must not hide the first
    const line = await openSerialLine(near.a);
    try {
      const link = new IrdaLink(line.stream, { ...irda, role: 'primary', maxFrameSize: maxFrame });
      const outgoing = frameLengths(14, MB, maxFrame);
      const incoming = frameLengths(41, MB, maxFrame);
      const sending = (async () => {
        for (let i = 0; i < outgoing.length; i++)
          await link.send(patternFrame(14, i, outgoing[i]!));
      })();
      sending.catch(() => {}); // awaited below
      for (let i = 0; i < incoming.length; i++) {
        const frame = await link.receive();
        assert.ok(
          frame && Buffer.from(frame).equals(patternFrame(41, i, incoming[i]!)),
          `frame ${i}`,
        );
        // Break the line of sight for less than the disconnect time, half way through.
        if (i === Math.floor(incoming.length / 2)) relay.outage(1000);
      }
      await sending;
      const report = await peer.report;
      await link.close();
      assert.equal(
        report.receivedBytes,
        outgoing.reduce((s, n) => s + n, 0),
      );
      const stats = link.stats();
      const caught = stats.badFrames + report.stats.badFrames!;
      const resent = stats.retransmissions + report.stats.retransmissions!;
      assert.ok(caught > 5, `damaged frames caught: ${caught}`);
      assert.ok(resent >= caught / 2, `resent ${resent} for ${caught} damaged`);
      assert.ok(stats.pollTimeouts > 0, 'the outage cost unanswered polls');
    } finally {
      await peer.kill();
      await relay.stop();
      await line.close();
      await Promise.all([near.stop(), far.stop()]);
    }
  },
);
