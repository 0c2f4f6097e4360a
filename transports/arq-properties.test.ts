/**
 * Property tests of the two retransmitting links over the byte-line model, on virtual time:
 * whatever the bit errors and outages, frames arrive whole and in order, or the link fails
 * with a LinkError; never a damaged, missing or repeated frame.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { patternFrame } from './compliance.ts';
import { IrdaLink } from './irda/irda-link.ts';
import { isLinkError, type Link } from './link.ts';
import { createModelLinePair, type ModelLinePair } from './model/byte-line.ts';
import { IRDA_SIR_115200, SERIAL_115200 } from './model/presets.ts';
import { seededRandom } from './model/seeded-random.ts';
import { VirtualClock } from './model/virtual-clock.ts';
import { SerialLink } from './serial/serial-link.ts';

const scenario = fc.record({
  seed: fc.integer(),
  ber: fc.constantFrom(0, 1e-5, 1e-4, 5e-4),
  sizes: fc.array(fc.integer({ min: 0, max: 6000 }), { minLength: 1, maxLength: 12 }),
  outageAfter: fc.integer({ min: 0, max: 12 }),
  outageMs: fc.integer({ min: 0, max: 8000 }),
  both: fc.boolean(),
});
type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

/** Runs one scenario; true when everything arrived, false when the link failed cleanly. */
async function exchange(s: Scenario, a: Link, b: Link, line: ModelLinePair): Promise<boolean> {
  const sizes = s.sizes.map((n) => Math.min(n, a.maxFrameSize));
  const send = async (from: Link, seed: number) => {
    for (let i = 0; i < sizes.length; i++) await from.send(patternFrame(seed, i, sizes[i]!));
  };
  const check = async (to: Link, seed: number, outage: boolean) => {
    for (let i = 0; i < sizes.length; i++) {
      const frame = await to.receive();
      assert.deepEqual(frame, patternFrame(seed, i, sizes[i]!), `frame ${i} of stream ${seed}`);
      if (outage && i === s.outageAfter) line.outage(s.outageMs);
    }
  };
  const work = [send(a, 1), check(b, 1, true)];
  if (s.both) work.push(send(b, 2), check(a, 2, false));
  const results = await Promise.allSettled(work);
  for (const r of results) {
    if (r.status === 'rejected' && !isLinkError(r.reason)) throw r.reason;
  }
  return results.every((r) => r.status === 'fulfilled');
}

test('serial link: frames arrive whole and in order or the link fails, under any errors and outages', async () => {
  await fc.assert(
    fc.asyncProperty(scenario, async (s) => {
      const clock = new VirtualClock();
      const line = createModelLinePair(SERIAL_115200, {
        clock,
        ber: s.ber,
        random: seededRandom(s.seed),
      });
      const tuning = { clock, segmentBytes: 512, deadPeerMs: 5000, keepaliveMs: 500 };
      const a = new SerialLink(line.a, tuning);
      const b = new SerialLink(line.b, tuning);
      const delivered = await exchange(s, a, b, line);
      // An outage well inside the dead-peer time must not break the link.
      if (s.outageMs < 3000) assert.ok(delivered, 'a short outage only delays');
      await Promise.allSettled([a.close(), b.close()]);
    }),
    { numRuns: 60 },
  );
});

test('IrDA link: frames arrive whole and in order or the link drops, under any errors and outages', async () => {
  await fc.assert(
    fc.asyncProperty(scenario, fc.constantFrom(1, 4, 7), async (s, window) => {
      const clock = new VirtualClock();
      const line = createModelLinePair(IRDA_SIR_115200, {
        clock,
        ber: s.ber,
        random: seededRandom(s.seed),
      });
      const tuning = { clock, window, dataSize: 512, minTurnaroundMs: 0, disconnectMs: 5000 };
      const a = new IrdaLink(line.a, { role: 'primary', ...tuning });
      const b = new IrdaLink(line.b, { role: 'secondary', ...tuning });
      const delivered = await exchange(s, a, b, line);
      if (s.outageMs < 3000) assert.ok(delivered, 'a short outage only delays');
      await Promise.allSettled([a.close(), b.close()]);
    }),
    { numRuns: 60 },
  );
});
