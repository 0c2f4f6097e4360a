import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes, formatDuration, ProgressBar } from './progress-bar.ts';

function fakeOutput() {
  const written: string[] = [];
  return { written, output: { write: (t: string) => written.push(t), columns: 120 } };
}

test('the bar shows certificates, bytes, rate and time left once the first moment passed', () => {
  let now = 0;
  const { written, output } = fakeOutput();
  const bar = new ProgressBar({ output, enabled: true, label: 'push', now: () => now });
  bar.update({ items: 1, total: 10, bytes: 500 });
  assert.equal(written.length, 0, 'quiet during the first moment');
  now = 2000;
  bar.update({ items: 5, total: 10, bytes: 10_000 });
  const line = written.at(-1) ?? '';
  assert.match(line, /push\s+\[##########\.{10}\]\s+5\/10 certs/);
  assert.match(line, /10\.0 KB {2}5\.0 KB\/s {2}0:02 left/);
  bar.finish();
  assert.equal(written.at(-1), '\n');
});

test('a disabled bar writes nothing, not even at the end', () => {
  let now = 0;
  const { written, output } = fakeOutput();
  const bar = new ProgressBar({ output, enabled: false, label: 'pull', now: () => now });
  now = 5000;
  bar.update({ items: 3, bytes: 3000 });
  bar.finish();
  assert.deepEqual(written, []);
});

test('bytes and durations read as a person expects', () => {
  assert.equal(formatBytes(999), '999 B');
  assert.equal(formatBytes(1500), '1.5 KB');
  assert.equal(formatBytes(2_500_000), '2.5 MB');
  assert.equal(formatDuration(125), '2:05');
});

test('a terminal that reports 0 columns, or none, gets the bar at 80 columns, not cut to 10', () => {
  for (const columns of [0, undefined, Number.NaN]) {
    let now = 0;
    const written: string[] = [];
    const output = { write: (t: string) => written.push(t), columns };
    const label = 'push to a peer with a long name';
    const bar = new ProgressBar({ output, enabled: true, label, now: () => now });
    now = 2000;
    bar.update({ items: 5, total: 10, bytes: 10_000 });
    const drawn = written.at(-1) ?? '';
    const whole = bar.line(now);
    assert.ok(whole.length > 80, `the line is longer than the fallback: ${whole}`);
    assert.equal(drawn, `\r${whole.slice(0, 79)}\x1b[K`, `columns ${columns}: one short of 80`);
  }
});
