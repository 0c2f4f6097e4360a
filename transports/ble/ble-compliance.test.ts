import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { rejectsWithLinkError, runLinkCompliance } from '../compliance.ts';
import { missingTools, startBtvirt, type Btvirt } from './btvirt/harness.ts';
import { BleCentral } from './central.ts';
import { BlePeripheral } from './peripheral.ts';

// The compliance suite over real noble and bleno on one btvirt radio. Both roles live in
// this process so the suite can hold both ends; the two-process run is ble-btvirt.test.ts.
// The cut is an HCI disconnection from the peripheral's side without the close handshake,
// which both ends see as the connection dropping. A cut at a chosen byte is covered over
// the in-memory pipe in credit-link.test.ts.

const maxFrameSize = 16384;
const roles: { btvirt?: Btvirt; peripheral?: BlePeripheral; central?: BleCentral } = {};

before(async () => {
  const missing = missingTools();
  assert.equal(missing, undefined, missing);
  roles.btvirt = await startBtvirt();
  const [ttyP, ttyC] = [await roles.btvirt.bridge('p'), await roles.btvirt.bridge('c')];
  roles.peripheral = await BlePeripheral.open({ hciPort: ttyP, link: { maxFrameSize } });
  roles.central = await BleCentral.open({ hciPort: ttyC, link: { maxFrameSize } });
});

after(async () => {
  await roles.central?.stop();
  await roles.peripheral?.stop();
  await roles.btvirt?.stop();
});

runLinkCompliance(
  'BLE through btvirt, noble central and bleno peripheral',
  async () => {
    const { peripheral, central } = roles;
    assert.ok(peripheral && central, 'the emulated controllers came up');
    const accepted = peripheral.accept();
    const b = await central.connect({ address: peripheral.address });
    const a = await accepted;
    return {
      a,
      b,
      cut: () => peripheral.disconnect(),
      cleanup: async () => void (await Promise.allSettled([a.close(), b.close()])),
    };
  },
  { volumeBytes: 128 * 1024, maxBufferedBytes: 256 * 1024, timeoutMs: 60_000 },
);

test('a central looking for an address nobody advertises gives up with timeout', async () => {
  assert.ok(roles.central, 'the emulated controllers came up');
  await rejectsWithLinkError(
    roles.central.connect({ address: '00:11:22:33:44:55', timeoutMs: 1500 }),
    ['timeout'],
  );
});
