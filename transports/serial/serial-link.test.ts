import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { test } from 'node:test';
import { patternFrame, runLinkCompliance } from '../compliance.ts';
import { createModelLinePair } from '../model/byte-line.ts';
import type { LinkParams } from '../model/link-params.ts';
import { SERIAL_115200 } from '../model/presets.ts';
import { seededRandom } from '../model/seeded-random.ts';
import { VirtualClock } from '../model/virtual-clock.ts';
import { encodeSerialFrame, type SerialFrame } from './serial-frame.ts';
import { SerialLink, type SerialLinkOptions } from './serial-link.ts';

function serialOverModel(
  params: LinkParams,
  ber: number,
  seed: number,
  options: SerialLinkOptions = {},
) {
  const clock = new VirtualClock();
  const line = createModelLinePair(params, { clock, ber, random: seededRandom(seed) });
  const tuning = { clock, deadPeerMs: 3000, keepaliveMs: 250, ...options };
  const a = new SerialLink(line.a, tuning);
  const b = new SerialLink(line.b, tuning);
  return {
    a,
    b,
    line,
    clock,
    cut: () => line.cut(),
    cleanup: async () => {
      await Promise.allSettled([a.close(), b.close()]);
      line.a.destroy();
      line.b.destroy();
    },
  };
}

runLinkCompliance('serial over the 115200 8N1 line model', async () =>
  serialOverModel(SERIAL_115200, 0, 1),
);

runLinkCompliance('serial over the line model with bit errors at 1e-5', async () =>
  serialOverModel(SERIAL_115200, 1e-5, 2),
);

test('serial link: 1 MB over a line with bit errors at 1e-4 arrives intact; every damaged frame is resent', async () => {
  const { a, b, line, clock, cleanup } = serialOverModel(SERIAL_115200, 1e-4, 3, {
    segmentBytes: 256,
  });
  const frames = 256;
  const size = 4096;
  const writer = (async () => {
    for (let i = 0; i < frames; i++) await a.send(patternFrame(11, i, size));
  })();
  for (let i = 0; i < frames; i++) {
    assert.deepEqual(await b.receive(), patternFrame(11, i, size), `frame ${i}`);
  }
  await writer;
  const damaged = line.stats().flippedBits;
  const stats = a.stats();
  assert.ok(damaged > 100, `the line flipped ${damaged} bits`);
  assert.ok(b.stats().badFrames > 0, 'the receiver saw damaged frames');
  assert.ok(stats.retransmissions >= b.stats().badFrames / 2, 'damaged data was resent');
  assert.ok(clock.now() > (frames * size) / 11.52, 'took at least the line time');
  await cleanup();
});

test('serial link: a line that goes silent fails both ends with timeout', async () => {
  const { a, b, cut, cleanup } = serialOverModel(SERIAL_115200, 0, 4);
  await a.send(new Uint8Array([1, 2, 3]));
  assert.deepEqual(await b.receive(), new Uint8Array([1, 2, 3]));
  cut();
  await assert.rejects(b.receive(), { code: 'timeout' });
  await assert.rejects(a.receive(), { code: 'timeout' });
  await cleanup();
});

test('serial link: a peer frame over this end’s limit fails the link, never a cut-down frame', async () => {
  const clock = new VirtualClock();
  const line = createModelLinePair(SERIAL_115200, { clock });
  const tuning = { clock, deadPeerMs: 3000, keepaliveMs: 250 };
  const a = new SerialLink(line.a, { ...tuning, maxFrameSize: 8192 });
  const b = new SerialLink(line.b, { ...tuning, maxFrameSize: 4096 });
  await a.send(patternFrame(12, 0, 4096));
  assert.deepEqual(await b.receive(), patternFrame(12, 0, 4096));
  await a.send(patternFrame(12, 1, 4097));
  await assert.rejects(b.receive(), { code: 'link-error', message: /over 4096 bytes/ });
  await assert.rejects(a.receive(), { code: 'timeout' });
  line.a.destroy();
  line.b.destroy();
});

/** A line end whose writes go nowhere; `peer` puts bytes on it as if the other end sent them. */
function deafLine(): { stream: Duplex; peer: (frame: SerialFrame) => void } {
  const stream = new Duplex({
    read() {},
    write(_chunk, _encoding, done) {
      done();
    },
  });
  return { stream, peer: (frame) => stream.push(encodeSerialFrame(frame)) };
}

test('serial link: closing while the peer closes ends at the peer’s FIN, even if ours is never acknowledged', async () => {
  const { stream, peer } = deafLine();
  const a = new SerialLink(stream, { deadPeerMs: 5000, keepaliveMs: 100, lingerMs: 200 });
  const closed = a.close();
  // The peer's FIN crosses ours, and the peer is gone before it acknowledges ours; a new peer
  // on the line then keeps it busy with valid frames, so silence never ends this end.
  peer({
    kind: 'data',
    seq: 0,
    ack: 0,
    window: 16,
    end: true,
    fin: true,
    payload: new Uint8Array(0),
  });
  const chatter = setInterval(() => peer({ kind: 'ack', ack: 0, window: 16, sack: 0 }), 50);
  try {
    const ended = await Promise.race([
      closed.then(() => 'closed'),
      new Promise((r) => setTimeout(() => r('still closing'), 2000)),
    ]);
    assert.equal(ended, 'closed');
  } finally {
    clearInterval(chatter);
  }
});

test('serial link: finished links leave no listener of their own on a long-lived stream', async () => {
  const { stream, peer } = deafLine();
  for (let i = 0; i < 20; i++) {
    const link = new SerialLink(stream, { deadPeerMs: 5000, keepaliveMs: 100, lingerMs: 50 });
    const closed = link.close();
    peer({
      kind: 'data',
      seq: 0,
      ack: 0,
      window: 16,
      end: true,
      fin: true,
      payload: new Uint8Array(0),
    });
    await closed;
  }
  for (const event of ['data', 'drain', 'close', 'error']) {
    assert.ok(stream.listenerCount(event) <= 1, `${event}: ${stream.listenerCount(event)}`);
  }
  stream.emit('error', new Error('a late error of the line'));
});
