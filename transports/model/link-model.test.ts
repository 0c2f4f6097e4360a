import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import { patternFrame, rejectsWithLinkError, runLinkCompliance } from '../compliance.ts';
import { createModelLinkPair } from './link-model.ts';
import { slotEndMs, type LinkParams } from './link-params.ts';
import { BLE_1M } from './presets.ts';
import { seededRandom } from './seeded-random.ts';
import { VirtualClock } from './virtual-clock.ts';

const line: LinkParams = {
  name: 'test-line',
  bitRate: 1_000_000,
  bitsPerByte: 10,
  maxFrameSize: 2048,
  frameOverheadBytes: 8,
  latencyMs: 2,
  duplex: 'full',
  turnaroundMs: 0,
};

runLinkCompliance('framed model, full duplex', async () => {
  const pair = createModelLinkPair(line, { clock: new VirtualClock() });
  return {
    ...pair,
    cleanup: async () => void (await Promise.allSettled([pair.a.close(), pair.b.close()])),
  };
});

runLinkCompliance('framed model, half duplex with bit errors', async () => {
  const params: LinkParams = { ...line, duplex: 'half', turnaroundMs: 1 };
  const pair = createModelLinkPair(params, {
    clock: new VirtualClock(),
    ber: 1e-5,
    random: seededRandom(7),
  });
  return {
    ...pair,
    cleanup: async () => void (await Promise.allSettled([pair.a.close(), pair.b.close()])),
  };
});

test('a frame takes its airtime plus latency on the virtual clock', async () => {
  const clock = new VirtualClock();
  const { a, b } = createModelLinkPair(line, { clock });
  await a.send(new Uint8Array(992));
  await b.receive();
  // (992 + 8) bytes * 10 bits at 1 Mbit/s = 10 ms, then 2 ms of latency.
  assert.equal(clock.now(), 12);
});

test('a cut at a chosen byte fails both ends and never hands over the cut frame', async () => {
  const clock = new VirtualClock();
  const { a, b } = createModelLinkPair(line, { clock, cutAtByte: 3000 });
  const sent = [0, 1, 2].map((i) => a.send(patternFrame(9, i, 1500)));
  assert.deepEqual(await b.receive(), patternFrame(9, 0, 1500));
  await rejectsWithLinkError(b.receive(), ['link-error']);
  await Promise.allSettled(sent);
  await rejectsWithLinkError(a.send(new Uint8Array(1)), ['link-error']);
  // The second frame was cut when its last byte was on the line: 2 frames of 15.08 ms.
  assert.ok(Math.abs(clock.now() - 30.16) < 0.01, `cut at ${clock.now()} ms`);
});

test('a virtual run gives the same timings every time', async () => {
  const run = async () => {
    const clock = new VirtualClock();
    const params: LinkParams = { ...line, duplex: 'half', turnaroundMs: 3 };
    const { a, b } = createModelLinkPair(params, { clock, ber: 1e-4, random: seededRandom(3) });
    const times: number[] = [];
    const writer = (async () => {
      for (let i = 0; i < 50; i++) await a.send(patternFrame(1, i, 1000));
    })();
    for (let i = 0; i < 50; i++) {
      await b.receive();
      times.push(clock.now());
    }
    await writer;
    return times;
  };
  assert.deepEqual(await run(), await run());
});

runLinkCompliance('framed model, BLE 1M, frames packed into packets, with bit errors', async () => {
  const pair = createModelLinkPair(BLE_1M, {
    clock: new VirtualClock(),
    ber: 1e-5,
    random: seededRandom(11),
  });
  return {
    ...pair,
    cleanup: async () => void (await Promise.allSettled([pair.a.close(), pair.b.close()])),
  };
});

describe('BLE model: frames packed into a byte stream cut in packets', () => {
  const slots = BLE_1M.slots!;
  const perFrame: LinkParams = { ...BLE_1M, slots: { ...slots, packing: 'frame' } };

  /** Sends frames of `lengths` all at once; returns when each arrived, and the stats. */
  const sendAtOnce = async (params: LinkParams, lengths: number[]) => {
    const clock = new VirtualClock();
    const pair = createModelLinkPair(params, { clock });
    const sent = Promise.all(lengths.map((n, i) => pair.a.send(patternFrame(30, i, n))));
    const arrivals: number[] = [];
    for (const [i, n] of lengths.entries()) {
      assert.deepEqual(await pair.b.receive(), patternFrame(30, i, n), `frame ${i}`);
      arrivals.push(clock.now());
    }
    await sent;
    return { arrivals, stats: pair.stats() };
  };

  it('N small frames sent back to back take N * size / payload packets, not N', async () => {
    const lengths = new Array<number>(100).fill(80);
    const packed = await sendAtOnce(BLE_1M, lengths);
    // 8,000 bytes in packets of 244: 33 packets, against 100 with a packet per frame.
    assert.equal(packed.stats.packets, Math.ceil((100 * 80) / slots.payloadBytes));
    assert.equal(packed.arrivals.at(-1), slotEndMs(slots, 0, 33));
    const alone = await sendAtOnce(perFrame, lengths);
    assert.equal(alone.stats.packets, 100);
    assert.equal(alone.arrivals.at(-1), slotEndMs(slots, 0, 100));
  });

  it('hands each frame over at the end of the packet that carries its last byte', async () => {
    const lengths = [300, 100, 500, 1, 0, 243];
    const { arrivals, stats } = await sendAtOnce(BLE_1M, lengths);
    let streamed = 0;
    const expected = lengths.map((n) => {
      streamed += n;
      return slotEndMs(slots, 0, Math.max(1, Math.ceil(streamed / slots.payloadBytes)));
    });
    assert.deepEqual(arrivals, expected);
    assert.equal(stats.packets, Math.ceil(streamed / slots.payloadBytes));
    assert.equal(stats.deliveredBytes, streamed);
  });

  it('a lone frame leaves in the next slot, never held back to fill a packet', async () => {
    const clock = new VirtualClock();
    const { a, b, stats } = createModelLinkPair(BLE_1M, { clock });
    await a.send(new Uint8Array(10));
    await b.receive();
    assert.equal(clock.now(), slotEndMs(slots, 0, 1));
    const again = clock.now();
    await a.send(new Uint8Array(10));
    await b.receive();
    assert.equal(clock.now(), slotEndMs(slots, again, 1));
    assert.equal(stats().packets, 2);
  });

  it('a cut inside a shared packet hands over the frames of earlier packets only', async () => {
    const clock = new VirtualClock();
    // Frames of 80 end at stream bytes 80, 160, ...: packet 1 completes frames 0 to 2,
    // packet 2 frames 3 to 5, and packet 3 (bytes 488 to 731) carries byte 700, so frames 6
    // and 7, whole before that byte, are lost with their packet.
    const { a, b } = createModelLinkPair(BLE_1M, { clock, cutAtByte: 700 });
    const sent = Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => a.send(patternFrame(31, i, 80))),
    );
    for (let i = 0; i < 6; i++) assert.deepEqual(await b.receive(), patternFrame(31, i, 80));
    await rejectsWithLinkError(b.receive(), ['link-error']);
    await sent;
    await rejectsWithLinkError(a.receive(), ['link-error']);
  });

  it('refuses a packing it does not know', () => {
    const odd = { ...BLE_1M, slots: { ...slots, packing: 'bytes' } } as unknown as LinkParams;
    assert.throws(() => createModelLinkPair(odd, { clock: new VirtualClock() }), /packing/);
  });

  it('gives the same timings every run, with bit errors', async () => {
    const run = async () => {
      const clock = new VirtualClock();
      const { a, b } = createModelLinkPair(BLE_1M, { clock, ber: 1e-4, random: seededRandom(5) });
      const times: number[] = [];
      const writer = (async () => {
        for (let i = 0; i < 200; i++) await a.send(patternFrame(2, i, 20 + ((i * 37) % 400)));
      })();
      for (let i = 0; i < 200; i++) {
        await b.receive();
        times.push(clock.now());
      }
      await writer;
      return times;
    };
    assert.deepEqual(await run(), await run());
  });
});
