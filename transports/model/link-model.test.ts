import assert from 'node:assert/strict';
import { test } from 'node:test';
import { patternFrame, rejectsWithLinkError, runLinkCompliance } from '../compliance.ts';
import { createModelLinkPair } from './link-model.ts';
import type { LinkParams } from './link-params.ts';
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
