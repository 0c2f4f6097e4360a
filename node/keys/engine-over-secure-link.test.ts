/**
 * The session engine (protocol/session) over SecureLink, in the order the client runs them:
 * each engine's hello in the clear, the handshake with both hello frames in its prologue,
 * then every other message as a sealed record. A relay that narrows the version list or
 * strips a capability in a real hello makes the handshake fail; a relay that alters a record
 * ends the session. Neither engine acts on anything the relay touched.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isCertsyncError } from '../../protocol/errors.ts';
import type { ErrorCode } from '../../protocol/errors.ts';
import type { MessageOf } from '../../protocol/messages/catalog.ts';
import { decodeFrame, encodeMessage } from '../../protocol/messages/codec.ts';
import { RECONCILE_CAPABILITY } from '../../protocol/session/engine.ts';
import { Side, testConfig } from '../../protocol/session/harness.ts';
import { MemoryStore } from '../../protocol/session/memory-store.ts';
import { DEFAULT_LIMITS } from '../../protocol/wire/limits.ts';
import type { Link } from '../../transports/link.ts';
import { createIdentity } from './identity.ts';
import { MemoryPeerBook } from './peer-book.ts';
import { acceptSecure, connectSecure } from './secure-link.ts';
import type { SecureSession } from './secure-link.ts';
import { relayedPair } from './test-relay.ts';
import type { Tamper } from './test-relay.ts';

type Result = { error: unknown; secure: SecureSession | null };

interface Role {
  /** Called once when the engine is ready: may give it a command. */
  onReady?: (side: Side) => void;
  /** True when this side has what it came for; it then closes the session. */
  done: (side: Side) => boolean;
}

/** One client: hello in clear, handshake bound to both hellos, then the engine over records. */
async function run(
  side: Side,
  link: Link,
  role: Role,
  open: (own: Uint8Array, theirs: Uint8Array) => Promise<SecureSession>,
): Promise<Result> {
  let secure: SecureSession | null = null;
  try {
    side.feed({ kind: 'start', now: 0 });
    const own = side.outbox.shift() as Uint8Array;
    await link.send(own);
    const theirs = await link.receive();
    assert.ok(theirs, 'a hello arrives');
    secure = await open(own, theirs);
    side.feed({ kind: 'frame', now: 0, frame: theirs });
    let readied = false;
    for (;;) {
      if (!readied && side.seen('ready').length > 0) {
        readied = true;
        role.onReady?.(side);
      }
      for (const frame of side.outbox.splice(0)) await secure.send(frame);
      if (role.done(side)) break;
      const frame = await secure.receive();
      if (frame === null) break;
      side.feed({ kind: 'frame', now: 0, frame });
    }
    await secure.close();
    return { error: null, secure };
  } catch (error) {
    return { error, secure };
  }
}

async function session(tap: { toServer?: Tamper }, pcAsks: boolean) {
  const pcKeys = { identity: createIdentity(), peers: new MemoryPeerBook() };
  const phoneKeys = { identity: createIdentity(), peers: new MemoryPeerBook() };
  pcKeys.peers.add({ name: 'phone', publicKey: phoneKeys.identity.x25519PublicKey, pairedAt: 1 });
  phoneKeys.peers.add({ name: 'pc', publicKey: pcKeys.identity.x25519PublicKey, pairedAt: 1 });
  const config = testConfig({ capabilities: [RECONCILE_CAPABILITY] });
  // The pc also speaks a version 2 that the phone does not: a relay could hide it.
  const pcConfig = { ...config, versions: { min: 1, max: 2 } };
  const pc = new Side('pc', pcConfig, { store: new MemoryStore() });
  const phoneStore = new MemoryStore();
  const phone = new Side('phone', config, { store: phoneStore });
  const wire = relayedPair(tap);
  const pcRole: Role = pcAsks
    ? {
        // Once ready, the pc lists the phone's store: a request that crosses as a record.
        onReady: (side) =>
          side.command(0, { op: 'list', order: 'store', filter: 'all', limit: 10 }),
        done: (side) => side.seen('list-page').length > 0,
      }
    : { done: (side) => side.seen('ready').length > 0 };
  const [a, b] = await Promise.all([
    run(pc, wire.client, pcRole, (own, theirs) =>
      connectSecure({
        link: wire.client,
        ...pcKeys,
        hellos: { initiatorHello: own, responderHello: theirs },
        intent: { kind: 'session', peer: 'phone' },
      }),
    ),
    run(phone, wire.server, { done: () => false }, (own, theirs) =>
      acceptSecure({
        link: wire.server,
        ...phoneKeys,
        hellos: { initiatorHello: theirs, responderHello: own },
      }),
    ),
  ]);
  return { pc, phone, phoneStore, a, b, wire };
}

function codeOf(result: Result): ErrorCode | null {
  if (result.error === null) return null;
  assert.ok(isCertsyncError(result.error), String(result.error));
  return result.error.code;
}

/** Rewrites the pc's hello (frame 0 towards the phone) as a relay on the link could. */
function rewriteHello(change: (hello: MessageOf<'hello'>) => MessageOf<'hello'>): Tamper {
  return (frame, index) => {
    if (index !== 0) return [frame];
    const decoded = decodeFrame(frame, DEFAULT_LIMITS);
    assert.equal(decoded.kind, 'message');
    const hello = (decoded as { message: MessageOf<'hello'> }).message;
    return [encodeMessage(decoded.version, change(hello), DEFAULT_LIMITS)];
  };
}

test('the engines become ready over SecureLink and a request crosses as a record', async () => {
  const { pc, phone, a, b, wire } = await session({}, true);
  assert.equal(codeOf(a), null);
  assert.equal(codeOf(b), null);
  assert.equal(pc.seen('ready').length, 1);
  assert.equal(phone.seen('ready').length, 1);
  assert.equal(pc.seen('list-page').length, 1, 'the list request was answered');
  await wire.cleanup();
});

const downgrades: [string, Tamper][] = [
  [
    'narrows the version list',
    rewriteHello((h) => ({ ...h, versions: [h.versions[0], h.versions[0]] as [number, number] })),
  ],
  ['strips a capability', rewriteHello((h) => ({ ...h, capabilities: [] }))],
  ['renames the device', rewriteHello((h) => ({ ...h, name: 'someone else' }))],
];

for (const [name, tamper] of downgrades) {
  test(`a relay that ${name} in a real hello fails the handshake on both sides`, async () => {
    const { pc, phone, a, b, wire } = await session({ toServer: tamper }, false);
    assert.equal(codeOf(a), 'handshake-failed');
    assert.equal(codeOf(b), 'handshake-failed');
    assert.equal(a.secure, null);
    assert.equal(b.secure, null);
    assert.equal(pc.seen('ready').length + phone.seen('ready').length, 0, 'no engine went on');
    await wire.cleanup();
  });
}

test('a relay that alters a record ends the session, and the request never reaches the store', async () => {
  // Frames from the pc: 0 hello, 1 IK message, 2 its first record (the list request).
  const flip: Tamper = (frame, index) => {
    if (index !== 2) return [frame];
    const out = frame.slice();
    out[3] = (out[3] as number) ^ 0x40;
    return [out];
  };
  const { pc, a, b, phoneStore, wire } = await session({ toServer: flip }, true);
  assert.equal(codeOf(b), 'decrypt-failed');
  assert.equal(codeOf(a), 'link-closed', 'the pc sees the session end without a close');
  assert.equal(pc.seen('list-page').length, 0);
  assert.deepEqual(phoneStore.summary(), new MemoryStore().summary());
  await wire.cleanup();
});
