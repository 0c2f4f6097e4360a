/**
 * SecureLink over real links: kernel ptys joined by socat with the serial framing, and TCP
 * sockets on 127.0.0.1. Pairing, then a session that carries data both ways, on stores that
 * are real SQLite files.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { formatPairingSecret } from '../../protocol/secure/pairing.ts';
import type { Link } from '../../transports/link.ts';
import { openSerialPortLink } from '../../transports/serial/serialport-adapter.ts';
import { connectTcpLink, listenTcpLink } from '../../transports/tcp.ts';
import { startPtyPair } from '../../transports/test-pty.ts';
import { Store } from '../store/index.ts';
import { systemRandom } from './identity.ts';
import { acceptSecure, connectSecure } from './secure-link.ts';
import type { InitiatorIntent, ResponderPairing } from './secure-link.ts';
import { storeIdentity, storePeerBook } from './store-peer-book.ts';

function storeClient(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'certsync-real-'));
  const store = Store.open(join(dir, 'store.db'), { create: true });
  t.after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, identity: storeIdentity(store), peers: storePeerBook(store) };
}

/** Pairs over one pair of links, then opens an IK session over another and moves data. */
async function pairThenTalk(
  t: TestContext,
  connect: () => Promise<{ client: Link; server: Link; stop: () => Promise<void> }>,
) {
  const pc = storeClient(t);
  const phone = storeClient(t);
  const secret = formatPairingSecret(systemRandom(16));
  const pairing: [InitiatorIntent, ResponderPairing] = [
    { kind: 'pair-secret', name: 'phone', secret },
    { kind: 'pair-secret', name: 'pc', secret },
  ];
  for (const [intent, accept] of [
    pairing,
    [{ kind: 'session', peer: 'phone' }, undefined],
  ] as const) {
    const links = await connect();
    try {
      const [a, b] = await Promise.all([
        connectSecure({ link: links.client, ...pc, intent }),
        acceptSecure({ link: links.server, ...phone, ...(accept ? { pairing: accept } : {}) }),
      ]);
      assert.equal(a.peer.name, 'phone');
      assert.equal(b.peer.name, 'pc');
      const chunk = new Uint8Array(Math.min(a.maxFrameSize, 4000)).map((_, i) => i & 0xff);
      const sending = (async () => {
        for (let i = 0; i < 16; i++) await a.send(chunk);
        await a.close();
      })();
      let got = 0;
      for (let f = await b.receive(); f !== null; f = await b.receive()) {
        assert.deepEqual(f, chunk);
        got++;
      }
      await sending;
      await b.close();
      assert.equal(got, 16);
      assert.equal(a.mode, accept ? 'pair-secret' : 'session-ik');
    } finally {
      await links.stop();
    }
  }
  assert.deepEqual(
    pc.store.peers.list().map((p) => p.name),
    ['phone'],
  );
  assert.deepEqual(
    phone.store.peers.list().map((p) => p.name),
    ['pc'],
  );
}

test('pairing and a session over serial ptys made by socat', { timeout: 120_000 }, async (t) => {
  await pairThenTalk(t, async () => {
    const pty = await startPtyPair();
    const tuning = { deadPeerMs: 30_000 };
    const [client, server] = await Promise.all([
      openSerialPortLink(pty.a, tuning),
      openSerialPortLink(pty.b, tuning),
    ]);
    return {
      client,
      server,
      stop: async () => {
        await Promise.allSettled([client.close(), server.close()]);
        await pty.stop();
      },
    };
  });
});

test('pairing and a session over TCP on 127.0.0.1', { timeout: 120_000 }, async (t) => {
  await pairThenTalk(t, async () => {
    const listener = await listenTcpLink();
    const [client, server] = await Promise.all([connectTcpLink(listener.port), listener.accept()]);
    return {
      client,
      server,
      stop: async () => {
        await Promise.allSettled([client.close(), server.close()]);
        await listener.close();
      },
    };
  });
});
