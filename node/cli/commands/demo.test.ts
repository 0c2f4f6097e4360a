import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DemoReport } from '../../demo/run-demo.ts';
import { certsyncJson } from '../../client/test-processes.ts';

test(
  'certsync demo pairs, transfers, overflows, replaces the revoked certificate and syncs',
  { timeout: 180_000 },
  async () => {
    const report = await certsyncJson<DemoReport>(['demo', '--contacts', '60'], process.cwd());
    assert.match(report.link, /serial link over kernel ptys|Bluetooth LE link model/);
    assert.equal(report.pc.before, 63);
    assert.equal(report.phone.before, 7);
    assert.equal(report.pushed, 5, 'the phone had room for five');
    assert.match(report.overflowReplaced ?? '', /Contact/, 'a contact, not a CA, made room');
    const revoked = report.check.find((c) => c.status === 'revoked');
    assert.match(revoked?.action ?? '', /^replaced by [0-9a-f]{16}$/);
    const expired = report.check.find((c) => c.status === 'expired');
    assert.match(expired?.action ?? '', /^deleted/);
    assert.ok(report.synced.received > 0, 'the PC got what only the phone had');
    assert.ok(report.phone.after <= report.phone.capacity);
  },
);
