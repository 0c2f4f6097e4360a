import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import { test } from 'node:test';
import { createModelLinePair } from './byte-line.ts';
import type { LinkParams } from './link-params.ts';
import { rawCapacity } from './link-params.ts';
import { BLE_1M, BLE_2M, bleParams, IRDA_SIR_9600, SERIAL_115200 } from './presets.ts';
import { seededRandom } from './seeded-random.ts';
import { VirtualClock } from './virtual-clock.ts';

const uart: LinkParams = { ...SERIAL_115200, bitRate: 10_000, latencyMs: 5 };

/** Collects what `end` receives, with the virtual time of each chunk. */
function collect(end: Duplex, clock: VirtualClock) {
  const got: { at: number; bytes: Buffer }[] = [];
  end.on('data', (bytes: Buffer) => got.push({ at: clock.now(), bytes }));
  return got;
}

const settle = () => new Promise((r) => setTimeout(r, 20));

test('a byte takes its ten UART bit times, then the latency', async () => {
  const clock = new VirtualClock();
  const line = createModelLinePair(uart, { clock });
  const got = collect(line.b, clock);
  line.a.write(new Uint8Array(100));
  await settle();
  // 100 bytes * 10 bits at 10 kbit/s = 100 ms, plus 5 ms of latency.
  assert.deepEqual(
    got.map((g) => [g.at, g.bytes.length]),
    [[105, 100]],
  );
});

test('half duplex: the second direction waits for the first and the turnaround', async () => {
  const clock = new VirtualClock();
  const line = createModelLinePair({ ...uart, duplex: 'half', turnaroundMs: 3 }, { clock });
  const atB = collect(line.b, clock);
  const atA = collect(line.a, clock);
  line.a.write(new Uint8Array(10));
  line.b.write(new Uint8Array(10));
  await settle();
  assert.equal(atB[0]!.at, 10 + 5);
  assert.equal(atA[0]!.at, 10 + 3 + 10 + 5);
});

test('bit errors flip data bits or lose characters at about the chosen rate', async () => {
  const clock = new VirtualClock();
  const line = createModelLinePair(uart, { clock, ber: 1e-3, random: seededRandom(1) });
  const got = collect(line.b, clock);
  const sent = new Uint8Array(20_000);
  line.a.write(sent);
  await settle();
  const stats = line.stats();
  // 200,000 bits at 1e-3: about 200 errors; 2 in 10 hit a start or stop bit.
  assert.ok(stats.flippedBits > 150 && stats.flippedBits < 250, `${stats.flippedBits} errors`);
  const received = Buffer.concat(got.map((g) => g.bytes));
  assert.equal(received.length, sent.length - stats.lostBytes);
  assert.ok(stats.lostBytes > 20 && stats.lostBytes < 70, `${stats.lostBytes} lost`);
  assert.ok(
    received.some((b) => b !== 0),
    'some data bits flipped',
  );
});

test('an outage swallows what is sent during it; a cut swallows everything after it', async () => {
  const clock = new VirtualClock();
  const line = createModelLinePair(uart, { clock });
  const got = collect(line.b, clock);
  line.outage(50);
  line.a.write(new Uint8Array(100).fill(1));
  await settle();
  // Bytes start every 1 ms: the first 50 fall in the outage.
  assert.equal(Buffer.concat(got.map((g) => g.bytes)).length, 50);
  line.cut();
  line.a.write(new Uint8Array(10));
  await settle();
  assert.equal(line.stats().deliveredBytes, 50);
});

test('preset capacities match their cited figures', () => {
  assert.equal(rawCapacity(SERIAL_115200), 11_520);
  assert.equal(rawCapacity(IRDA_SIR_9600), 960);
  // LE 1M: 261-octet packet 2088 µs + T_IFS + 80 µs empty reply + T_IFS = 2468 µs; 6 per
  // 15 ms event of 244-octet ATT values.
  assert.equal(BLE_1M.slots?.packetsPerEvent, 6);
  assert.ok(Math.abs(BLE_1M.slots!.packetMs - 2.468) < 1e-9);
  assert.equal(rawCapacity(BLE_1M), 97_600);
  assert.equal(BLE_2M.slots?.packetsPerEvent, 10);
  // Default MTU 23 at 7.5 ms on LE 1M: 27-octet payloads, 37-octet packets of 296 µs.
  const small = bleParams({ phy: '1m', intervalMs: 7.5, attMtu: 23 });
  assert.ok(Math.abs(small.slots!.packetMs - 0.676) < 1e-9);
  assert.equal(small.slots!.packetsPerEvent, 11);
  assert.equal(small.slots!.payloadBytes, 20);
  assert.throws(() => bleParams({ phy: '1m', intervalMs: 8, attMtu: 23 }), RangeError);
});
