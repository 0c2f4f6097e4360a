/**
 * An unpaired peer against a client serving its real SQLite store with the client's own
 * session code (node/client/peer-session.ts). The stranger sends every message of the
 * catalog but session control, and a reconciliation entry, in each way it could try: in the
 * clear instead of the handshake, sealed under keys of a completed XX handshake, behind an
 * IK message, behind a pairing the client does not accept. Every attempt is refused with a
 * stable code, the stranger hears nothing but the client's hello and handshake frames, and
 * the store does not change.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isCertsyncError } from '../../protocol/errors.ts';
import type { ErrorCode } from '../../protocol/errors.ts';
import { MESSAGES } from '../../protocol/messages/catalog.ts';
import type { Message, MessageName, MessageOf } from '../../protocol/messages/catalog.ts';
import { decodeFrame, encodeMessage } from '../../protocol/messages/codec.ts';
import { encodeReconcileMessage } from '../../protocol/reconcile/messages.ts';
import {
  decodeHandshakeFrame,
  encodeHandshakeFrame,
  type HandshakeMode,
} from '../../protocol/secure/frames.ts';
import { HandshakeState } from '../../protocol/secure/handshake.ts';
import { buildPrologue } from '../../protocol/secure/prologue.ts';
import { RECORD, TransportCipher } from '../../protocol/secure/transport.ts';
import { encodeEnvelope } from '../../protocol/wire/envelope.ts';
import { DEFAULT_LIMITS } from '../../protocol/wire/limits.ts';
import type { Link } from '../../transports/link.ts';
import { acceptSession } from '../client/peer-session.ts';
import { parseCertificate, sha256, toHex } from '../pki/index.ts';
import { Store } from '../store/index.ts';
import { CertificateFactory, makeTemplateCertificate } from '../testing/certificate-factory.ts';
import { OpensslPki } from '../testing/openssl-pki.ts';
import { makeTempDir } from '../testing/temp-dir.ts';
import { createIdentity, systemRandom } from './identity.ts';
import { storeIdentity } from './store-peer-book.ts';
import { modelPair } from './test-relay.ts';

const L = DEFAULT_LIMITS;
const EMPTY = new Uint8Array(0);

let temp: { dir: string; remove: () => void };
let phone: Store;
/** A certificate the phone holds, and one it lacks. */
let held: Uint8Array;
let fresh: Uint8Array;

before(async () => {
  temp = makeTempDir('certsync-unpaired-');
  const pki = await OpensslPki.create();
  try {
    const factory = new CertificateFactory((await makeTemplateCertificate(pki)).der);
    [held, fresh] = [factory.make(1), factory.make(2)];
  } finally {
    await pki.cleanup();
  }
  phone = Store.open(join(temp.dir, 'phone.sqlite'), { create: true });
  phone.certificates.add([parseCertificate(held)], { source: 'test' });
  phone.peers.add('pc', createIdentity().x25519PublicKey);
});

after(() => {
  phone.close();
  temp.remove();
});

function contents(store: Store) {
  return {
    entries: store.sync
      .entries()
      .map((e) => `${toHex(e.fingerprint)}:${e.deleted ? 'deleted' : 'live'}`)
      .sort(),
    peers: store.peers.list().map((p) => `${p.name}:${toHex(p.identityKey)}`),
  };
}

/** One well-formed instance of every catalog message but hello, goodbye and error. */
function writeAttempts(): [string, Uint8Array][] {
  const heldId = sha256(held);
  const origin = new Uint8Array(16).fill(9);
  const item = { kind: 'cert', der: fresh, pinned: false, clock: 1000, origin } as const;
  const tombstone = { kind: 'cert', id: heldId, clock: 1000, origin, deletedAt: 1 } as const;
  const messages: { [N in Exclude<MessageName, 'hello' | 'goodbye' | 'error'>]: MessageOf<N> } = {
    'list-request': { type: 'list-request', id: 1, order: 'store', filter: 'all', limit: 10 },
    'list-page': { type: 'list-page', id: 1, entries: [], total: 0 },
    'transfer-begin': { type: 'transfer-begin', id: 1, mode: 'replace-all', items: 2 },
    items: { type: 'items', id: 1, seq: 0, items: [item], tombstones: [tombstone] },
    'transfer-end': { type: 'transfer-end', id: 1, batches: 1 },
    'items-ack': { type: 'items-ack', id: 1, seq: 0, results: [] },
    'transfer-done': { type: 'transfer-done', id: 1, aborted: false, removed: 0 },
    'pull-request': { type: 'pull-request', id: 1, mode: 'add', filter: 'all' },
    'delete-request': { type: 'delete-request', id: 1, ids: [heldId] },
    'delete-result': { type: 'delete-result', id: 1, results: [] },
    'overflow-alert': { type: 'overflow-alert', id: 1, incoming: heldId, candidates: [] },
    'overflow-answer': { type: 'overflow-answer', id: 1, victim: heldId },
    'validity-report': {
      type: 'validity-report',
      checkedAt: 1,
      results: [{ id: heldId, status: 'revoked' }],
    },
  };
  const names = Object.keys(MESSAGES).filter((n) => !['hello', 'goodbye', 'error'].includes(n));
  assert.deepEqual(names.sort(), Object.keys(messages).sort(), 'every catalog message is tried');
  const out: [string, Uint8Array][] = Object.values(messages).map((m: Message) => [
    m.type,
    encodeMessage(1, m, L),
  ]);
  const entry = encodeReconcileMessage({
    type: 'entry',
    entry: { kind: 'cert', fingerprint: heldId, deleted: true, clock: 1000, origin, der: null },
  } as Parameters<typeof encodeReconcileMessage>[0]);
  out.push(['reconcile entry', encodeEnvelope({ version: 1, type: entry.code, ...entry }, L)]);
  return out;
}

/** How the stranger tries to get `frames` past the handshake. */
type Route = 'in the clear' | 'sealed after XX' | 'after an IK message' | 'after a pairing';

const REFUSALS: readonly ErrorCode[] = [
  'not-paired',
  'pairing-rejected',
  'malformed-message',
  'handshake-failed',
  'unexpected-message',
];

/**
 * Runs the stranger's side over `link`: hellos, then the route, then every frame of
 * `frames`. Returns the frames it heard from the phone after the hello.
 */
async function stranger(link: Link, route: Route, frames: Uint8Array[]): Promise<Uint8Array[]> {
  const identity = createIdentity();
  const phoneHello = await link.receive();
  assert.ok(phoneHello, "the phone's hello");
  const decoded = decodeFrame(phoneHello, L);
  assert.equal(decoded.kind, 'message');
  const hello = (decoded as { message: MessageOf<'hello'> }).message;
  const mine = encodeMessage(1, { ...hello, name: 'stranger' }, L);
  await link.send(mine);
  const heard: Uint8Array[] = [];
  const next = async () => {
    const frame = await link.receive();
    if (frame) heard.push(frame);
    return frame;
  };
  const handshake = (pattern: 'XX' | 'IK', remoteStatic?: Uint8Array) =>
    new HandshakeState({
      pattern,
      initiator: true,
      prologue: buildPrologue({ initiatorHello: mine, responderHello: phoneHello }),
      staticSecret: identity.x25519SecretKey,
      ephemeralSecret: systemRandom(32),
      ...(remoteStatic ? { remoteStatic } : {}),
    });
  const send = (mode: HandshakeMode, message: Uint8Array) =>
    link.send(encodeHandshakeFrame(mode, message));

  try {
    if (route === 'in the clear') {
      for (const f of frames) await link.send(f);
    } else if (route === 'sealed after XX') {
      const state = handshake('XX');
      await send('session-xx', state.writeMessage(EMPTY));
      const reply = await next();
      assert.ok(reply, 'the phone answers the first XX message');
      const m2 = decodeHandshakeFrame(reply);
      assert.equal(m2.kind, 'handshake');
      state.readMessage((m2 as { message: Uint8Array }).message);
      // The stranger now holds valid session keys; it sends everything before any answer.
      await send('session-xx', state.writeMessage(EMPTY));
      const transport = new TransportCipher(state.split(), link.maxFrameSize);
      for (const f of frames) await link.send(transport.seal(RECORD.data, f));
    } else if (route === 'after an IK message') {
      const state = handshake('IK', storeIdentity(phone).x25519PublicKey);
      await send('session-ik', state.writeMessage(EMPTY));
      for (const f of frames) await link.send(f);
    } else {
      await send('pair', handshake('XX').writeMessage(EMPTY));
      for (const f of frames) await link.send(f);
    }
  } catch {
    // The phone may close the link while the stranger still sends: that is a refusal too.
  }
  try {
    while ((await next()) !== null);
  } catch {
    // A link the phone closed ends the listening.
  }
  await link.close();
  return heard;
}

const ROUTES: readonly Route[] = [
  'in the clear',
  'sealed after XX',
  'after an IK message',
  'after a pairing',
];

for (const route of ROUTES) {
  test(`an unpaired peer sending every write message ${route} is refused; the store keeps`, async () => {
    const before = contents(phone);
    const attempts = writeAttempts();
    // Each message first in its own connection, the others right behind it.
    for (const [i, [name]] of attempts.entries()) {
      const frames = [...attempts.slice(i), ...attempts.slice(0, i)].map(([, f]) => f);
      const { a, b, cleanup } = modelPair();
      const [served, heard] = await Promise.all([
        acceptSession(b, { store: phone, autoSync: false }).then(
          () => null,
          (error: unknown) => error,
        ),
        stranger(a, route, frames),
      ]);
      await cleanup();
      assert.ok(isCertsyncError(served), `${name}: the phone refused, got ${String(served)}`);
      assert.ok(REFUSALS.includes(served.code), `${name}: refused with ${served.code}`);
      if (route === 'sealed after XX' || route === 'after an IK message') {
        assert.equal(served.code, 'not-paired', name);
      }
      if (route === 'after a pairing') assert.equal(served.code, 'pairing-rejected', name);
      // Nothing but handshake frames and the refusal came back: no answer to any message.
      for (const frame of heard) assert.ok(decodeHandshakeFrame(frame), name);
      const last = decodeHandshakeFrame(heard.at(-1) as Uint8Array);
      assert.deepEqual(last, { kind: 'abort', code: served.code }, `${name}: told why`);
      assert.deepEqual(contents(phone), before, `${name}: the store is unchanged`);
    }
  });
}
