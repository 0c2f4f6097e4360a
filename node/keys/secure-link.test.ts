import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { CertsyncError, isCertsyncError } from '../../protocol/errors.ts';
import type { ErrorCode } from '../../protocol/errors.ts';
import { formatPairingSecret } from '../../protocol/secure/pairing.ts';
import type { Link } from '../../transports/link.ts';
import { isLinkError } from '../../transports/link.ts';
import { createIdentity, systemRandom } from './identity.ts';
import type { Identity } from './identity.ts';
import { Store } from '../store/index.ts';
import { MemoryPeerBook } from './peer-book.ts';
import type { PeerBook } from './peer-book.ts';
import { storeIdentity, storePeerBook } from './store-peer-book.ts';
import { acceptSecure, connectSecure } from './secure-link.ts';
import type {
  ConfirmCode,
  InitiatorIntent,
  ResponderPairing,
  SecureSession,
} from './secure-link.ts';
import { relayedPair } from './test-relay.ts';
import type { Tamper } from './test-relay.ts';

interface Client {
  identity: Identity;
  peers: PeerBook;
}

function newClient(): Client {
  return { identity: createIdentity(), peers: new MemoryPeerBook() };
}

/** A client on a real SQLite store file, as `certsync init` makes one. */
function storeClient(t: TestContext): Client {
  const dir = mkdtempSync(join(tmpdir(), 'certsync-session-'));
  const store = Store.open(join(dir, 'store.db'), { create: true });
  t.after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { identity: storeIdentity(store), peers: storePeerBook(store) };
}

/** Records each other's keys as a completed pairing would. */
function pairDirectly(a: Client, aName: string, b: Client, bName: string): void {
  a.peers.add({ name: bName, publicKey: b.identity.x25519PublicKey, pairedAt: 1 });
  b.peers.add({ name: aName, publicKey: a.identity.x25519PublicKey, pairedAt: 1 });
}

/** A hello stands in for the session protocol's: opaque bytes to the secure layer. */
function hello(low: number, high: number): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ versions: [low, high], capabilities: ['x'] }));
}

async function exchangeHellos(link: Link, mine: Uint8Array): Promise<Uint8Array> {
  await link.send(mine);
  const theirs = await link.receive();
  assert.ok(theirs, 'a hello arrives');
  return theirs;
}

type Outcome = { session: SecureSession } | { code: ErrorCode | 'link'; error: unknown };

async function settle(p: Promise<SecureSession>): Promise<Outcome> {
  try {
    return { session: await p };
  } catch (error) {
    if (isCertsyncError(error)) return { code: error.code, error };
    if (isLinkError(error)) return { code: 'link', error };
    throw error;
  }
}

/** Runs hello exchange and handshake between a client and a server over `link`s. */
async function open(
  client: Client,
  server: Client,
  links: { client: Link; server: Link },
  intent: InitiatorIntent,
  pairing?: ResponderPairing,
): Promise<[Outcome, Outcome]> {
  const clientHello = hello(1, 3);
  const serverHello = hello(1, 2);
  const initiator = (async () => {
    const theirs = await exchangeHellos(links.client, clientHello);
    const hellos = { initiatorHello: clientHello, responderHello: theirs };
    return connectSecure({ link: links.client, ...client, hellos, intent });
  })();
  const responder = (async () => {
    const theirs = await exchangeHellos(links.server, serverHello);
    const hellos = { initiatorHello: theirs, responderHello: serverHello };
    return acceptSecure({ link: links.server, ...server, hellos, ...(pairing ? { pairing } : {}) });
  })();
  return Promise.all([settle(initiator), settle(responder)]);
}

function session(outcome: Outcome): SecureSession {
  if ('session' in outcome) return outcome.session;
  throw outcome.error;
}

function failure(outcome: Outcome): ErrorCode | 'link' {
  assert.ok(!('session' in outcome), 'expected the session to fail');
  return outcome.code;
}

/** Two users reading their screens: each confirms only when both codes are the same. */
function screens(): { confirm: (side: 0 | 1) => ConfirmCode; codes: string[] } {
  const codes: string[] = [];
  const waiters: (() => void)[] = [];
  const confirm =
    (side: 0 | 1): ConfirmCode =>
    async (code) => {
      codes[side] = code;
      waiters.forEach((w) => w());
      while (codes[0] === undefined || codes[1] === undefined) {
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
      return codes[0] === codes[1];
    };
  return { confirm, codes };
}

test('pairing by numeric comparison stores both peers, then IK and XX sessions carry frames', async (t) => {
  const phone = storeClient(t);
  const pc = storeClient(t);
  const users = screens();
  const wire = relayedPair();
  const [a, b] = await open(
    pc,
    phone,
    wire,
    { kind: 'pair', name: 'phone', confirm: users.confirm(0) },
    { kind: 'pair', name: 'pc', confirm: users.confirm(1) },
  );
  assert.match(users.codes[0] as string, /^\d{6}$/);
  assert.equal(users.codes[0], users.codes[1]);
  assert.ok(session(a).newlyPaired && session(b).newlyPaired);
  assert.deepEqual(phone.peers.findByName('pc')?.publicKey, pc.identity.x25519PublicKey);
  assert.deepEqual(pc.peers.findByName('phone')?.publicKey, phone.identity.x25519PublicKey);
  await session(a).send(new Uint8Array([1, 2, 3]));
  assert.deepEqual(await session(b).receive(), new Uint8Array([1, 2, 3]));
  await Promise.all([session(a).close(), session(b).close()]);
  await wire.cleanup();

  for (const intent of [{ peer: 'phone' }, {}]) {
    const next = relayedPair();
    const [c, d] = await open(pc, phone, next, { kind: 'session', ...intent });
    assert.equal(session(c).mode, intent.peer ? 'session-ik' : 'session-xx');
    assert.equal(session(c).peer.name, 'phone');
    assert.equal(session(d).peer.name, 'pc');
    await session(d).send(new Uint8Array([9]));
    assert.deepEqual(await session(c).receive(), new Uint8Array([9]));
    await session(c).close();
    assert.equal(await session(d).receive(), null, 'a clean close reads as the end');
    await session(d).close();
    await next.cleanup();
  }
});

test('a relay that swaps keys during pairing shows different codes and nothing is stored', async (t) => {
  const pc = storeClient(t);
  const phone = storeClient(t);
  const relay = newClient();
  const users = screens();
  const yes: ConfirmCode = async () => true;
  const left = relayedPair();
  const right = relayedPair();
  const [pcSide, relayAsPhone, relayAsPc, phoneSide] = await Promise.all([
    open(
      pc,
      relay,
      left,
      { kind: 'pair', name: 'phone', confirm: users.confirm(0) },
      {
        kind: 'pair',
        name: 'pc',
        confirm: yes,
      },
    ),
    open(
      relay,
      phone,
      right,
      { kind: 'pair', name: 'phone', confirm: yes },
      {
        kind: 'pair',
        name: 'pc',
        confirm: users.confirm(1),
      },
    ),
  ]).then(([l, r]) => [l[0], l[1], r[0], r[1]]);
  assert.notEqual(users.codes[0], users.codes[1], 'the two screens show different codes');
  assert.equal(failure(pcSide as Outcome), 'pairing-rejected');
  assert.equal(failure(phoneSide as Outcome), 'pairing-rejected');
  assert.equal(failure(relayAsPhone as Outcome), 'pairing-rejected');
  assert.equal(failure(relayAsPc as Outcome), 'pairing-rejected');
  assert.deepEqual(pc.peers.list(), []);
  assert.deepEqual(phone.peers.list(), []);
  await Promise.all([left.cleanup(), right.cleanup()]);
});

test('pairing with a one-time secret stores both peers; a wrong secret stores nothing', async () => {
  const pc = newClient();
  const phone = newClient();
  const secret = formatPairingSecret(systemRandom(16));
  const other = formatPairingSecret(systemRandom(16));
  const bad = relayedPair();
  const [x, y] = await open(
    pc,
    phone,
    bad,
    { kind: 'pair-secret', name: 'phone', secret },
    {
      kind: 'pair-secret',
      name: 'pc',
      secret: other,
    },
  );
  assert.equal(failure(x), 'handshake-failed');
  assert.equal(failure(y), 'handshake-failed');
  assert.deepEqual([pc.peers.list(), phone.peers.list()], [[], []]);
  await bad.cleanup();

  const good = relayedPair();
  const typed = secret.toUpperCase().replaceAll('-', ' ');
  const [a, b] = await open(
    pc,
    phone,
    good,
    { kind: 'pair-secret', name: 'phone', secret },
    {
      kind: 'pair-secret',
      name: 'pc',
      secret: typed,
    },
  );
  assert.equal(session(a).peer.name, 'phone');
  assert.equal(session(b).peer.name, 'pc');
  assert.equal(pc.peers.list().length + phone.peers.list().length, 2);
  await Promise.all([session(a).close(), session(b).close(), good.cleanup()]);
});

test('an unpaired peer can only pair: sessions are refused, and pairing only when accepted', async () => {
  const stranger = newClient();
  const phone = newClient();
  const first = relayedPair();
  const [a, b] = await open(stranger, phone, first, { kind: 'session' });
  assert.equal(failure(a), 'not-paired');
  assert.equal(failure(b), 'not-paired');
  await first.cleanup();

  // The stranger believes it paired with the phone, but the phone never stored it.
  stranger.peers.add({ name: 'phone', publicKey: phone.identity.x25519PublicKey, pairedAt: 1 });
  const second = relayedPair();
  const [c, d] = await open(stranger, phone, second, { kind: 'session', peer: 'phone' });
  assert.equal(failure(c), 'not-paired');
  assert.equal(failure(d), 'not-paired');
  await second.cleanup();

  const third = relayedPair();
  const yes: ConfirmCode = async () => true;
  const [e, f] = await open(stranger, phone, third, { kind: 'pair', name: 'phone', confirm: yes });
  assert.equal(failure(e), 'pairing-rejected');
  assert.equal(failure(f), 'pairing-rejected');
  assert.deepEqual(phone.peers.list(), []);
  await third.cleanup();
});

test('a paired peer presenting another identity key is refused with peer-key-mismatch', async () => {
  const pc = newClient();
  const phone = newClient();
  pairDirectly(pc, 'pc', phone, 'phone');
  const impostor: Client = { identity: createIdentity(), peers: phone.peers };
  const wire = relayedPair();
  const [a, b] = await open(pc, impostor, wire, { kind: 'session', peer: 'phone' });
  assert.equal(failure(a), 'peer-key-mismatch');
  assert.equal(failure(b), 'peer-key-mismatch');
  await wire.cleanup();
});

test('a relay that narrows the version list in a hello makes the handshake fail', async () => {
  const pc = newClient();
  const phone = newClient();
  pairDirectly(pc, 'pc', phone, 'phone');
  const downgrade: Tamper = (frame, index) => {
    if (index > 0) return [frame];
    const text = new TextDecoder().decode(frame).replace('[1,3]', '[1,1]');
    return [new TextEncoder().encode(text)];
  };
  for (const intent of [{ peer: 'phone' }, {}]) {
    const wire = relayedPair({ toServer: downgrade });
    const [a, b] = await open(pc, phone, wire, { kind: 'session', ...intent });
    assert.equal(failure(a), 'handshake-failed');
    assert.equal(failure(b), 'handshake-failed');
    await wire.cleanup();
  }
});

test('a bit flipped in a handshake message makes the handshake fail', async () => {
  const pc = newClient();
  const phone = newClient();
  pairDirectly(pc, 'pc', phone, 'phone');
  const flip: Tamper = (frame, index) => {
    if (index !== 1) return [frame];
    const out = frame.slice();
    out[out.length - 3] = (out[out.length - 3] as number) ^ 0x10;
    return [out];
  };
  const wire = relayedPair({ toClient: flip });
  const [a, b] = await open(pc, phone, wire, { kind: 'session', peer: 'phone' });
  assert.equal(failure(a), 'handshake-failed');
  // IK is one round trip: the responder is done after its message and learns of the failure
  // from the initiator's abort, before any record.
  await assert.rejects(
    session(b).receive(),
    (e) => isCertsyncError(e) && e.code === 'handshake-failed',
  );
  await wire.cleanup();
});

/** Frames from the client: 0 is its hello, 1 its IK message, 2 and on its session frames. */
const attacks: [string, Tamper, ErrorCode][] = [
  ['a replayed frame', (f, i) => (i === 4 ? [f, f] : [f]), 'decrypt-failed'],
  ['a reordered frame', reorder(4), 'decrypt-failed'],
  ['a dropped frame', (f, i) => (i === 4 ? [] : [f]), 'decrypt-failed'],
  ['a flipped bit', (f, i) => (i === 4 ? [flipBit(f, 20)] : [f]), 'decrypt-failed'],
  [
    'a truncated frame',
    (f, i) => (i === 4 ? [f.subarray(0, f.length - 1)] : [f]),
    'decrypt-failed',
  ],
  ['a session cut before its close record', (f, i) => (i >= 7 ? [] : [f]), 'link-closed'],
];

function flipBit(frame: Uint8Array, at: number): Uint8Array {
  const out = frame.slice();
  out[at] = (out[at] as number) ^ 1;
  return out;
}

function reorder(at: number): Tamper {
  let held: Uint8Array | null = null;
  return (frame, index) => {
    if (index === at) {
      held = frame;
      return [];
    }
    if (index === at + 1 && held) return [frame, held];
    return [frame];
  };
}

for (const [name, tamper, code] of attacks) {
  test(`${name} ends the session with ${code}, delivering nothing after`, async () => {
    const pc = newClient();
    const phone = newClient();
    pairDirectly(pc, 'pc', phone, 'phone');
    const wire = relayedPair({ toServer: tamper });
    const [a, b] = await open(pc, phone, wire, { kind: 'session', peer: 'phone' });
    const sender = session(a);
    const receiver = session(b);
    const frames = [0, 1, 2, 3, 4].map((i) => new Uint8Array(40).fill(i));
    const writing = (async () => {
      for (const f of frames) await sender.send(f);
      await sender.close();
    })();
    const delivered: Uint8Array[] = [];
    let error: unknown = null;
    try {
      for (let f = await receiver.receive(); f !== null; f = await receiver.receive()) {
        delivered.push(f);
      }
    } catch (e) {
      error = e;
    }
    await writing.catch(() => undefined);
    assert.ok(error instanceof CertsyncError, `expected a session error, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.deepEqual(delivered, frames.slice(0, delivered.length), 'only untouched frames arrive');
    await assert.rejects(receiver.receive(), (e) => e === error, 'the session stays failed');
    await wire.cleanup();
  });
}

test('keys rotate at the bound on both sides and the session goes on', async () => {
  const pc = newClient();
  const phone = newClient();
  pairDirectly(pc, 'pc', phone, 'phone');
  const wire = relayedPair();
  const rekey = { records: 5, bytes: 1000 };
  const clientHello = hello(1, 3);
  const serverHello = hello(1, 2);
  const [a, b] = await Promise.all([
    exchangeHellos(wire.client, clientHello).then((theirs) =>
      connectSecure({
        link: wire.client,
        ...pc,
        rekey,
        hellos: { initiatorHello: clientHello, responderHello: theirs },
        intent: { kind: 'session', peer: 'phone' },
      }),
    ),
    exchangeHellos(wire.server, serverHello).then((theirs) =>
      acceptSecure({
        link: wire.server,
        ...phone,
        rekey,
        hellos: { initiatorHello: theirs, responderHello: serverHello },
      }),
    ),
  ]);
  // 20 small frames rotate by count (every 5 records): 4 rotations. Then frames of 600 bytes
  // are 617 on the wire, so the second one passes 1000 bytes: the fifth rotation, by size.
  const sizes = [...new Array<number>(20).fill(10), 600, 600, 600];
  for (const [i, size] of sizes.entries()) {
    const frame = new Uint8Array(size).fill(i);
    await a.send(frame);
    assert.deepEqual(await b.receive(), frame);
    await b.send(frame);
    assert.deepEqual(await a.receive(), frame);
  }
  assert.deepEqual(a.rotations(), { send: 5, receive: 5 });
  assert.deepEqual(b.rotations(), a.rotations());
  await Promise.all([a.close(), b.close()]);
  await wire.cleanup();
});

test('frames are bounded: a session frame over the limit is refused and nothing is sent', async () => {
  const pc = newClient();
  const phone = newClient();
  pairDirectly(pc, 'pc', phone, 'phone');
  const wire = relayedPair();
  const [a, b] = await open(pc, phone, wire, { kind: 'session', peer: 'phone' });
  const max = session(a).maxFrameSize;
  assert.equal(max, wire.client.maxFrameSize - 17);
  await assert.rejects(session(a).send(new Uint8Array(max + 1)), (e) => {
    return isLinkError(e) && e.code === 'frame-too-large';
  });
  await session(a).send(new Uint8Array(max).fill(7));
  assert.deepEqual(await session(b).receive(), new Uint8Array(max).fill(7));
  await Promise.all([session(a).close(), session(b).close(), wire.cleanup()]);
});

test('the session keeps the link rules: close ends pending reads, the end reads as null twice', async () => {
  const pc = newClient();
  const phone = newClient();
  pairDirectly(pc, 'pc', phone, 'phone');
  const wire = relayedPair();
  const [a, b] = (await open(pc, phone, wire, { kind: 'session', peer: 'phone' })).map(session);
  const x = a as SecureSession;
  const y = b as SecureSession;
  const pending = x.receive();
  const closing = x.close();
  await assert.rejects(pending, (e) => isLinkError(e) && e.code === 'link-closed');
  await assert.rejects(
    x.send(new Uint8Array([1])),
    (e) => isLinkError(e) && e.code === 'link-closed',
  );
  await closing;
  assert.equal(await y.receive(), null);
  assert.equal(await y.receive(), null, 'the end is reported again');
  await assert.rejects(
    y.send(new Uint8Array([1])),
    (e) => isLinkError(e) && e.code === 'link-closed',
  );
  await y.close();
  await wire.cleanup();
});
