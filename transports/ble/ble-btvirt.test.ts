import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildPreload, missingTools } from './btvirt/harness.ts';
import { echoBetweenProcesses } from './test-btvirt-peers.ts';

// These tests need btvirt, socat and gcc. Without them they fail, naming what to install:
// a BLE link that was never exercised must not pass as tested.

test('the btvirt preload library builds', { timeout: 60_000 }, () => {
  const missing = missingTools();
  assert.equal(missing, undefined, missing);
  assert.match(buildPreload(), /preload-[0-9a-f]{16}\.so$/);
});

test(
  'real noble and bleno in two processes echo 1 MiB of random frames through btvirt, ' +
    'every byte checked',
  { timeout: 120_000 },
  async () => {
    const missing = missingTools();
    assert.equal(missing, undefined, missing);
    const bytes = 1 << 20;
    const { central, peripheral } = await echoBetweenProcesses(bytes, 16384);
    assert.ok(central.bytes >= bytes, `central moved ${central.bytes} bytes`);
    assert.equal(peripheral.bytes, central.bytes);
    assert.equal(peripheral.frames, central.frames);
    assert.ok(central.frames > 50, `only ${central.frames} frames`);
  },
);
