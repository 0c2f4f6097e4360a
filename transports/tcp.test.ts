import assert from 'node:assert/strict';
import { createServer, Socket } from 'node:net';
import { test } from 'node:test';
import { rejectsWithLinkError, runLinkCompliance } from './compliance.ts';
import { connectTcpLink, listenTcpLink, TcpLink } from './tcp.ts';

// Loopback TCP buffers several MB in the kernel (net.ipv4.tcp_wmem and tcp_rmem); that is
// bounded, but above the suite's default bound.
runLinkCompliance(
  'tcp on 127.0.0.1',
  async () => {
    const listener = await listenTcpLink({ maxFrameSize: 65536 });
    const [a, b] = await Promise.all([
      connectTcpLink(listener.port, { maxFrameSize: 65536 }),
      listener.accept(),
    ]);
    return {
      a,
      b,
      cut: () => {
        a.reset();
        b.reset();
      },
      cleanup: async () => {
        a.reset();
        b.reset();
        await listener.close();
      },
    };
  },
  { maxBufferedBytes: 16 * 1024 * 1024 },
);

test('tcp: a peer that announces a frame over the limit fails the link', async () => {
  const server = createServer((socket) => socket.end(Buffer.from([0, 1, 0, 0])));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  const link = await connectTcpLink(address.port, { maxFrameSize: 1024 });
  await rejectsWithLinkError(link.receive(), ['link-error']);
  await link.close();
  await new Promise((r) => server.close(r));
});

test('tcp: a peer that closes in the middle of a frame is an error, not a short frame', async () => {
  const server = createServer((socket) => socket.end(Buffer.from([0, 0, 0, 9, 1, 2, 3])));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  const link = await connectTcpLink(address.port);
  await rejectsWithLinkError(link.receive(), ['link-error']);
  await link.close();
  await new Promise((r) => server.close(r));
});

test('tcp: reset of a socket whose sending side has ended destroys it plainly', async () => {
  // libuv refuses to reset a socket that is shutting down, and Node then never closes its
  // handle: the process stays alive and polls. Such a socket must be destroyed instead.
  const held: Socket[] = [];
  const server = createServer({ allowHalfOpen: true }, (s) => held.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  const socket = new Socket();
  await new Promise<void>((r) => socket.connect(address.port, '127.0.0.1', () => r()));
  const link = new TcpLink(socket);
  const calls: string[] = [];
  socket.resetAndDestroy = () => (calls.push('reset'), socket);
  const destroy = socket.destroy.bind(socket);
  socket.destroy = (e?: Error) => (calls.push('destroy'), destroy(e));
  void link.close();
  link.reset();
  assert.deepEqual(calls, ['destroy']);
  for (const s of held) s.destroy();
  await new Promise((r) => server.close(r));
});
