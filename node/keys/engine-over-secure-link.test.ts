/**
 * The session engine (protocol/session) running over SecureLink, as the client runs it: the
 * handshake first, then the engines' hellos as the first records each way. A relay that
 * alters a hello (to narrow the version list) cannot do so unnoticed: the record fails.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CertsyncError, isCertsyncError } from '../../protocol/errors.ts';
import { Side, testConfig } from '../../protocol/session/harness.ts';
import { MemoryStore } from '../../protocol/session/memory-store.ts';
import { createIdentity } from './identity.ts';
import { MemoryPeerBook } from './peer-book.ts';
import { acceptSecure, connectSecure } from './secure-link.ts';
import type { SecureSession } from './secure-link.ts';
import { relayedPair } from './test-relay.ts';
import type { Tamper } from './test-relay.ts';

/** Feeds the engine every record until it is ready or the session fails; returns the error. */
async function drive(side: Side, link: SecureSession): Promise<unknown> {
  side.feed({ kind: 'start', now: 0 });
  try {
    for (;;) {
      for (const frame of side.outbox.splice(0)) await link.send(frame);
      if (side.seen('ready').length > 0) return null;
      const frame = await link.receive();
      if (frame === null) return null;
      side.feed({ kind: 'frame', now: 0, frame });
    }
  } catch (error) {
    return error;
  }
}

async function sessions(tap: { toServer?: Tamper } = {}) {
  const pc = { identity: createIdentity(), peers: new MemoryPeerBook() };
  const phone = { identity: createIdentity(), peers: new MemoryPeerBook() };
  pc.peers.add({ name: 'phone', publicKey: phone.identity.x25519PublicKey, pairedAt: 1 });
  phone.peers.add({ name: 'pc', publicKey: pc.identity.x25519PublicKey, pairedAt: 1 });
  const seen: Uint8Array[] = [];
  const wire = relayedPair({
    toServer: (frame, index) => {
      seen.push(frame);
      return tap.toServer ? tap.toServer(frame, index) : [frame];
    },
  });
  const [client, server] = await Promise.all([
    connectSecure({ link: wire.client, ...pc, intent: { kind: 'session', peer: 'phone' } }),
    acceptSecure({ link: wire.server, ...phone }),
  ]);
  return { client, server, wire, seen };
}

test('the engines exchange hellos inside the session and become ready; no hello is in clear', async () => {
  const { client, server, wire, seen } = await sessions();
  const capabilities = ['capability-only-the-peer-may-read'];
  const a = new Side('pc', testConfig({ capabilities }), { store: new MemoryStore() });
  const b = new Side('phone', testConfig(), { store: new MemoryStore() });
  const [ea, eb] = await Promise.all([drive(a, client), drive(b, server)]);
  assert.equal(ea, null);
  assert.equal(eb, null);
  assert.equal(a.seen('ready').length, 1);
  assert.equal(b.seen('ready').length, 1);
  assert.deepEqual(b.seen('ready')[0]?.peer.capabilities, capabilities);
  const plain = Buffer.from(capabilities[0] as string);
  assert.ok(
    seen.every((f) => Buffer.from(f).indexOf(plain) < 0),
    'capabilities never cross the relay in clear',
  );
  await Promise.all([client.close(), server.close(), wire.cleanup()]);
});

test('a relay that alters the first record (the hello) ends the session before any effect', async () => {
  // Frame 0 from the client is its IK message; frame 1 is its hello record.
  const flip: Tamper = (frame, index) => {
    if (index !== 1) return [frame];
    const out = frame.slice();
    out[8] = (out[8] as number) ^ 0x01;
    return [out];
  };
  const { client, server, wire } = await sessions({ toServer: flip });
  const store = new MemoryStore();
  const a = new Side('pc', testConfig(), { store: new MemoryStore() });
  const b = new Side('phone', testConfig(), { store });
  const [ea, eb] = await Promise.all([drive(a, client), drive(b, server)]);
  assert.ok(eb instanceof CertsyncError && eb.code === 'decrypt-failed', String(eb));
  assert.equal(b.seen('ready').length, 0, 'the phone never accepted a hello');
  // The pc got the phone's untouched hello, then learns the session ended without a close.
  assert.equal(ea, null);
  await assert.rejects(client.receive(), (e) => isCertsyncError(e) && e.code === 'link-closed');
  assert.deepEqual(store.summary(), new MemoryStore().summary(), 'the phone store is unchanged');
  await wire.cleanup();
});
