import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isCertsyncError } from '../../protocol/errors.ts';
import { connectTcpLink, listenTcpLink, type TcpLink } from '../../transports/tcp.ts';
import { DeadlineLink } from './deadline-link.ts';

/** Two ends of a real TCP connection on 127.0.0.1. */
async function tcpPair(): Promise<{ near: TcpLink; far: TcpLink; stop: () => Promise<void> }> {
  const listener = await listenTcpLink({ port: 0 });
  const [near, far] = await Promise.all([connectTcpLink(listener.port), listener.accept()]);
  return {
    near,
    far,
    stop: async () => {
      await Promise.all([near.close(), far.close()]);
      await listener.close();
    },
  };
}

test('a receive past its deadline fails with timeout, and a later frame is not lost', async () => {
  const { near, far, stop } = await tcpPair();
  try {
    const link = new DeadlineLink(near);
    const t0 = Date.now();
    link.setDeadline(t0 + 150, 'the test frame');
    await assert.rejects(link.receive(), (e: unknown) => {
      assert.ok(isCertsyncError(e) && e.code === 'timeout');
      assert.match(e.message, /^the test frame/);
      return true;
    });
    const waited = Date.now() - t0;
    assert.ok(waited >= 140 && waited < 2_000, `gave up after ${waited} ms`);

    await far.send(Uint8Array.of(1, 2, 3));
    link.setDeadline(null);
    assert.deepEqual(await link.receive(), Uint8Array.of(1, 2, 3));
    assert.equal(link.framesReceived, 1);
  } finally {
    await stop();
  }
});

test('a frame within the deadline arrives; a deadline already past fails at once', async () => {
  const { near, far, stop } = await tcpPair();
  try {
    const link = new DeadlineLink(near);
    link.setDeadline(Date.now() + 5_000, 'a frame');
    setTimeout(() => void far.send(Uint8Array.of(9)), 50);
    assert.deepEqual(await link.receive(), Uint8Array.of(9));
    link.setDeadline(Date.now() - 1, 'a late frame');
    await assert.rejects(
      link.receive(),
      (e: unknown) => isCertsyncError(e) && e.code === 'timeout',
    );
  } finally {
    await stop();
  }
});

test('the link failing is reported as the link failing, not as a timeout', async () => {
  const { near, far, stop } = await tcpPair();
  try {
    const link = new DeadlineLink(near);
    link.setDeadline(Date.now() + 5_000, 'a frame');
    far.reset();
    await assert.rejects(link.receive(), (e: unknown) => {
      assert.equal((e as { code?: string }).code, 'link-error');
      return true;
    });
  } finally {
    await stop();
  }
});

test('a deadline must be a number of ms or null', async () => {
  const { near, stop } = await tcpPair();
  try {
    assert.throws(() => new DeadlineLink(near).setDeadline(Number.NaN), RangeError);
  } finally {
    await stop();
  }
});
