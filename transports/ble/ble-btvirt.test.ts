import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { test } from 'node:test';
import { frameLengths, patternFrame, rejectsWithLinkError } from '../compliance.ts';
import { buildPreload, missingTools, startBtvirt } from './btvirt/harness.ts';
import { BleCentral } from './central.ts';
import { echoBetweenProcesses, runPeer } from './test-btvirt-peers.ts';

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
    // Both sides fragment to the ATT_MTU they negotiated (256 on btvirt), not the default 23.
    assert.ok(central.chunkSize > 20, `central chunks of ${central.chunkSize} bytes`);
    assert.equal(peripheral.chunkSize, central.chunkSize);
  },
);

test(
  'a peer process killed in the middle of a transfer fails the link, never a truncated frame',
  { timeout: 120_000 },
  async () => {
    const missing = missingTools();
    assert.equal(missing, undefined, missing);
    const btvirt = await startBtvirt();
    const children: ChildProcess[] = [];
    let central: BleCentral | undefined;
    try {
      const maxFrameSize = 16384;
      const lengths = frameLengths(1, 1 << 22, maxFrameSize);
      const ttyP = await btvirt.bridge('peripheral');
      const ttyC = await btvirt.bridge('central');
      const peer = runPeer('peripheral', ttyP, [String(1 << 22), String(maxFrameSize)], children);
      central = await BleCentral.open({
        hciPort: ttyC,
        link: { maxFrameSize, keepaliveMs: 1000, idleTimeoutMs: 5000 },
      });
      const link = await central.connect();
      const writer = (async () => {
        for (const [i, n] of lengths.entries()) await link.send(patternFrame(1, i, n));
      })();
      writer.catch(() => {});

      let echoed = 0;
      const reader = (async () => {
        for (;;) {
          const frame = await link.receive();
          assert.ok(frame, 'a killed peer is not a clean end');
          assert.deepEqual(frame, patternFrame(1, echoed, lengths[echoed]!), `echo ${echoed}`);
          if (++echoed === 10) children[0]!.kill('SIGKILL');
        }
      })();
      await rejectsWithLinkError(reader, ['timeout', 'link-error']);
      await rejectsWithLinkError(writer, ['timeout', 'link-error']);
      assert.ok(echoed >= 10, `only ${echoed} echoes before the failure`);
      assert.equal((await peer).code, null, 'the peer died by the signal');
    } finally {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
      await central?.stop();
      await btvirt.stop();
    }
  },
);
