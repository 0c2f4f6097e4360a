import assert from 'node:assert/strict';
import { test } from 'node:test';
import { patternFrame, rejectsWithLinkError, runLinkCompliance } from '../compliance.ts';
import { createModelLinePair } from '../model/byte-line.ts';
import type { LinkParams } from '../model/link-params.ts';
import { IRDA_SIR_115200, IRDA_SIR_9600 } from '../model/presets.ts';
import { seededRandom } from '../model/seeded-random.ts';
import { VirtualClock } from '../model/virtual-clock.ts';
import { IrdaLink, type IrdaLinkOptions } from './irda-link.ts';

type Tuning = Omit<IrdaLinkOptions, 'role'>;

function irdaOverModel(params: LinkParams, ber: number, seed: number, tuning: Tuning = {}) {
  const clock = new VirtualClock();
  const line = createModelLinePair(params, { clock, ber, random: seededRandom(seed) });
  // The model already spends the turnaround time on every change of direction.
  const common = { clock, bitRate: params.bitRate, minTurnaroundMs: 0, ...tuning };
  const a = new IrdaLink(line.a, { role: 'primary', ...common });
  const b = new IrdaLink(line.b, { role: 'secondary', ...common });
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

runLinkCompliance('IrDA over the SIR 115200 line model', async () =>
  irdaOverModel(IRDA_SIR_115200, 0, 1),
);

runLinkCompliance('IrDA over the SIR 115200 line model with bit errors at 1e-5', async () =>
  irdaOverModel(IRDA_SIR_115200, 1e-5, 2),
);

/** Sends `frames` frames a -> b, checking each; calls `during(i)` after frame i arrived. */
async function transfer(
  link: { a: IrdaLink; b: IrdaLink },
  frames: number,
  size: number,
  during: (i: number) => void = () => {},
) {
  const writer = (async () => {
    for (let i = 0; i < frames; i++) await link.a.send(patternFrame(31, i, size));
  })();
  writer.catch(() => {}); // awaited below; the reader may fail first
  for (let i = 0; i < frames; i++) {
    assert.deepEqual(await link.b.receive(), patternFrame(31, i, size), `frame ${i}`);
    during(i);
  }
  await writer;
}

test('IrDA: 1 MB with bit errors at 1e-5 arrives intact; every damaged frame is resent', async () => {
  const pair = irdaOverModel(IRDA_SIR_115200, 1e-5, 3);
  await transfer(pair, 256, 4096);
  const { badFrames } = pair.b.stats();
  assert.ok(badFrames > 5, `the secondary caught ${badFrames} damaged frames`);
  const { retransmissions } = pair.a.stats();
  assert.ok(retransmissions >= badFrames / 2, `${retransmissions} resent for ${badFrames} damaged`);
  await pair.cleanup();
});

test('IrDA at 9,600 bit/s carries frames whole within its turn budget', async () => {
  const pair = irdaOverModel(IRDA_SIR_9600, 0, 5, { dataSize: 256 });
  await transfer(pair, 8, 2000);
  // 16,000 bytes at 960 bytes/s take at least 16.7 s of line time.
  assert.ok(pair.clock.now() > 16_700, `took ${pair.clock.now()} ms`);
  await pair.cleanup();
});

test('IrDA: an outage shorter than the disconnect time costs only retransmissions', async () => {
  const pair = irdaOverModel(IRDA_SIR_115200, 0, 4, { disconnectMs: 3000 });
  await transfer(pair, 40, 2000, (i) => i === 5 && pair.line.outage(1500));
  assert.ok(pair.a.stats().pollTimeouts > 0, 'the primary noticed the outage');
  await pair.cleanup();
});

test('IrDA: an outage longer than the disconnect time drops the link at both stations', async () => {
  const pair = irdaOverModel(IRDA_SIR_115200, 0, 4, { disconnectMs: 3000 });
  const writer = transfer(pair, 40, 2000, (i) => i === 5 && pair.line.outage(4000));
  await rejectsWithLinkError(writer, ['link-error']);
  await rejectsWithLinkError(pair.a.send(new Uint8Array(1)), ['link-error']);
  await rejectsWithLinkError(pair.b.receive(), ['link-error']);
  await pair.cleanup();
});

test('IrDA: a peer frame over this station’s limit fails the link, never a cut-down frame', async () => {
  const clock = new VirtualClock();
  const line = createModelLinePair(IRDA_SIR_115200, { clock });
  const common = { clock, bitRate: IRDA_SIR_115200.bitRate, minTurnaroundMs: 0 };
  const a = new IrdaLink(line.a, { role: 'primary', ...common, maxFrameSize: 8192 });
  const b = new IrdaLink(line.b, { role: 'secondary', ...common, maxFrameSize: 4096 });
  await a.send(patternFrame(13, 0, 4096));
  assert.deepEqual(await b.receive(), patternFrame(13, 0, 4096));
  await a.send(patternFrame(13, 1, 4097));
  await rejectsWithLinkError(b.receive(), ['link-error']);
  await rejectsWithLinkError(a.receive(), ['link-error']);
  line.a.destroy();
  line.b.destroy();
});
