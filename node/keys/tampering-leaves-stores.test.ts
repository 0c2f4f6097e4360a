/**
 * A relay between two paired clients on real SQLite stores, running the client's own
 * session code (node/client/peer-session.ts), replays, reorders, drops, alters or truncates
 * a record of a push, or rewrites a hello. Each attack ends the session, and neither store
 * changes: not a certificate, not a tombstone, not a peer. The phone's session ends with the
 * secure channel's own code: `decrypt-failed` for a record replayed, reordered, dropped,
 * altered or cut, `handshake-failed` for a rewritten hello.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isCertsyncError } from '../../protocol/errors.ts';
import type { ErrorCode } from '../../protocol/errors.ts';
import type { MessageOf } from '../../protocol/messages/catalog.ts';
import { decodeFrame, encodeMessage } from '../../protocol/messages/codec.ts';
import { formatPairingSecret } from '../../protocol/secure/pairing.ts';
import { DEFAULT_LIMITS } from '../../protocol/wire/limits.ts';
import { acceptSession, connectSession } from '../client/peer-session.ts';
import { parseCertificate, sha256, toHex } from '../pki/index.ts';
import { Store } from '../store/index.ts';
import { CertificateFactory, makeTemplateCertificate } from '../testing/certificate-factory.ts';
import { OpensslPki } from '../testing/openssl-pki.ts';
import { makeTempDir } from '../testing/temp-dir.ts';
import { relayedPair } from './test-relay.ts';
import type { Tamper } from './test-relay.ts';

let temp: { dir: string; remove: () => void };
let pc: Store;
let phone: Store;
let certs: Uint8Array[];

before(async () => {
  temp = makeTempDir('certsync-tamper-');
  const pki = await OpensslPki.create();
  try {
    const factory = new CertificateFactory((await makeTemplateCertificate(pki)).der);
    certs = Array.from({ length: 6 }, (_, i) => factory.make(i));
  } finally {
    await pki.cleanup();
  }
  pc = Store.open(join(temp.dir, 'pc.sqlite'), { create: true });
  phone = Store.open(join(temp.dir, 'phone.sqlite'), { create: true });
  pc.certificates.add(
    certs.slice(0, 4).map((d) => parseCertificate(d)),
    { source: 'test' },
  );
  phone.certificates.add(
    certs.slice(3).map((d) => parseCertificate(d)),
    { source: 'test' },
  );
  phone.certificates.delete([sha256(certs[5] as Uint8Array)]);

  const secret = formatPairingSecret(new Uint8Array(16).fill(5));
  const wire = relayedPair();
  const [x, y] = await Promise.all([
    connectSession(wire.client, {
      store: pc,
      autoSync: false,
      intent: { kind: 'pair-secret', name: 'phone', secret },
    }),
    acceptSession(wire.server, {
      store: phone,
      autoSync: false,
      pairing: { kind: 'pair-secret', name: 'pc', secret },
    }),
  ]);
  await x.goodbye();
  await y.whenEnded();
  await wire.cleanup();
});

after(() => {
  pc.close();
  phone.close();
  temp.remove();
});

/** Everything a session could change in a store: items, tombstones and paired keys. */
function contents(store: Store) {
  return {
    entries: store.sync
      .entries()
      .map((e) => `${toHex(e.fingerprint)}:${e.deleted ? 'deleted' : 'live'}`)
      .sort(),
    peers: store.peers.list().map((p) => `${p.name}:${toHex(p.identityKey)}`),
  };
}

/** The three certificates the pc pushes, of which the phone lacks two. */
const pushed = () => certs.slice(1, 4).map((d) => toHex(sha256(d)));

/**
 * One session in which the pc pushes three certificates to the phone, the frames from the
 * pc passing through `tamper`. Frames from the pc: 0 its hello, 1 its IK message, then the
 * records 2 transfer-begin, 3 items, 4 transfer-end.
 */
async function pushThrough(tamper: Tamper) {
  const wire = relayedPair({ toServer: tamper });
  const server = acceptSession(wire.server, { store: phone, autoSync: false }).then(
    (s) => s.whenEnded(),
    (error: unknown) => error,
  );
  const client = connectSession(wire.client, {
    store: pc,
    autoSync: false,
    intent: { kind: 'session', peer: 'phone' },
  }).then(
    async (s) => {
      const summary = await s.push(pushed(), 'add').catch((error: unknown) => error);
      await s.goodbye();
      return summary;
    },
    (error: unknown) => error,
  );
  const [phoneEnd, pcEnd] = await Promise.all([server, client]);
  await wire.cleanup();
  return { phoneEnd, pcEnd };
}

function at(index: number, change: (frame: Uint8Array) => Uint8Array[]): Tamper {
  return (frame, i) => (i === index ? change(frame) : [frame]);
}

function rewriteHello(change: (hello: MessageOf<'hello'>) => MessageOf<'hello'>): Tamper {
  return at(0, (frame) => {
    const decoded = decodeFrame(frame, DEFAULT_LIMITS);
    assert.equal(decoded.kind, 'message');
    const hello = (decoded as { message: MessageOf<'hello'> }).message;
    return [encodeMessage(decoded.version, change(hello), DEFAULT_LIMITS)];
  });
}

function reorder(first: number): Tamper {
  let held: Uint8Array | undefined;
  return (frame, i) => {
    if (i === first) {
      held = frame;
      return [];
    }
    return i === first + 1 && held ? [frame, held] : [frame];
  };
}

/** An attack, and the code the phone's session must end with. */
const attacks: [string, Tamper, ErrorCode][] = [
  ['replays the transfer-begin record', at(2, (f) => [f, f]), 'decrypt-failed'],
  ['sends the items record before the transfer-begin', reorder(2), 'decrypt-failed'],
  ['drops the transfer-begin record', at(2, () => []), 'decrypt-failed'],
  [
    'flips one bit of the items record',
    at(3, (f) => {
      const out = f.slice();
      out[100] = (out[100] as number) ^ 0x08;
      return [out];
    }),
    'decrypt-failed',
  ],
  ['cuts the last byte off the items record', at(3, (f) => [f.subarray(0, -1)]), 'decrypt-failed'],
  [
    'rewrites the version list in the hello',
    rewriteHello((h) => ({ ...h, versions: [h.versions[0], h.versions[1] + 1] })),
    'handshake-failed',
  ],
  [
    'strips the reconcile capability from the hello',
    rewriteHello((h) => ({ ...h, capabilities: [] })),
    'handshake-failed',
  ],
];

for (const [name, tamper, code] of attacks) {
  test(`a relay that ${name} ends the session with ${code}; neither store changes`, async () => {
    const before = { pc: contents(pc), phone: contents(phone) };
    const { phoneEnd, pcEnd } = await pushThrough(tamper);
    assert.ok(isCertsyncError(phoneEnd), `the phone's session ended with ${String(phoneEnd)}`);
    assert.equal(phoneEnd.code, code, phoneEnd.message);
    assert.ok(isCertsyncError(pcEnd), `the pc's push ended with ${JSON.stringify(pcEnd)}`);
    assert.deepEqual(contents(phone), before.phone, "the phone's store is unchanged");
    assert.deepEqual(contents(pc), before.pc, "the pc's store is unchanged");
  });
}

test('without a relay the same push stores the two certificates the phone lacked', async () => {
  const before = contents(phone);
  const { phoneEnd, pcEnd } = await pushThrough((frame) => [frame]);
  assert.equal(phoneEnd, null, 'the phone saw a clean goodbye');
  const outcomes = (pcEnd as { results: { outcome: string }[] }).results.map((r) => r.outcome);
  assert.deepEqual(outcomes.sort(), ['stored', 'stored', 'unchanged']);
  assert.equal(contents(phone).entries.length, before.entries.length + 2);
});
