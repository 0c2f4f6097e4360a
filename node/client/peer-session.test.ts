import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { formatPairingSecret } from '../../protocol/secure/pairing.ts';
import { connectTcpLink, listenTcpLink, type TcpLink } from '../../transports/tcp.ts';
import { parseCertificate, sha256 } from '../pki/index.ts';
import { Store } from '../store/index.ts';
import { CertificateFactory, makeTemplateCertificate } from '../testing/certificate-factory.ts';
import { OpensslPki } from '../testing/openssl-pki.ts';
import { makeTempDir } from '../testing/temp-dir.ts';
import { acceptSession, connectSession } from './peer-session.ts';

const SECRET = formatPairingSecret(new Uint8Array(16).fill(9));

let temp: { dir: string; remove: () => void };
let certs: Uint8Array[];

before(async () => {
  temp = makeTempDir('certsync-peer-session-');
  const pki = await OpensslPki.create();
  try {
    const factory = new CertificateFactory((await makeTemplateCertificate(pki)).der);
    certs = Array.from({ length: 6 }, (_, i) => factory.make(i));
  } finally {
    await pki.cleanup();
  }
});

after(() => temp.remove());

/** A real TCP connection on 127.0.0.1: the connecting end and the accepting end. */
async function tcpPair(): Promise<{ a: TcpLink; b: TcpLink; stop: () => Promise<void> }> {
  const listener = await listenTcpLink({ port: 0 });
  const [a, b] = await Promise.all([connectTcpLink(listener.port), listener.accept()]);
  return {
    a,
    b,
    stop: async () => {
      await Promise.all([a.close(), b.close()]).catch(() => undefined);
      await listener.close();
    },
  };
}

/** One session each way over a fresh connection; `pair` pairs A (as `b`) and B (as `a`). */
async function open(a: Store, b: Store, pair = false) {
  const line = await tcpPair();
  const [sa, sb] = await Promise.all([
    connectSession(line.a, {
      store: a,
      autoSync: false,
      intent: pair
        ? { kind: 'pair-secret', name: 'b', secret: SECRET }
        : { kind: 'session', peer: 'b' },
    }),
    acceptSession(line.b, {
      store: b,
      autoSync: false,
      ...(pair ? { pairing: { kind: 'pair-secret', name: 'a', secret: SECRET } as const } : {}),
    }),
  ]);
  return { sa, sb, line };
}

/** Two paired stores: A holds certificates 0..3 and deleted 0, B holds 2..5. */
async function pairedStores(name: string): Promise<{ a: Store; b: Store }> {
  const a = Store.open(join(temp.dir, `${name}-a.sqlite`), { create: true });
  const b = Store.open(join(temp.dir, `${name}-b.sqlite`), { create: true });
  a.certificates.add(
    certs.slice(0, 4).map((d) => parseCertificate(d)),
    { source: 'test' },
  );
  a.certificates.delete([sha256(certs[0]!)]);
  b.certificates.add(
    certs.slice(2).map((d) => parseCertificate(d)),
    { source: 'test' },
  );
  const { sa, sb, line } = await open(a, b, true);
  await sa.goodbye();
  await sb.whenEnded();
  await line.stop();
  return { a, b };
}

const acked = (s: Store, peer: string) => s.peers.get(peer)!.ackedCounter;

test(
  'a sync records how far the peer has this store only once the goodbyes are exchanged',
  { timeout: 60_000 },
  async () => {
    const { a, b } = await pairedStores('clean');
    try {
      const startA = a.sync.counter();
      const startB = b.sync.counter();
      const { sa, sb, line } = await open(a, b);
      const ended = sb.whenEnded();
      await sa.reconcile();
      // The reconcile finished here, but nothing says yet that B applied what A sent.
      assert.equal(acked(a, 'b'), 0);
      await sa.goodbye();
      assert.equal(await sa.whenEnded(), null);
      assert.equal(await ended, null);
      assert.equal(sa.reconcileUnconfirmed, false, "B's goodbye confirms what A sent");
      await line.stop();
      assert.equal(acked(a, 'b'), startA, "A's changes up to the session start reached B");
      assert.equal(acked(b, 'a'), startB);
      assert.equal(b.sync.entries().filter((e) => e.deleted).length, 1, "B holds A's tombstone");
      assert.equal(a.sync.compactTombstones({ minAgeMs: 0 }), 1, 'B has it, so A may drop it');
    } finally {
      a.close();
      b.close();
    }
  },
);

test(
  'a sync cut after its reconcile records nothing, so compaction keeps the tombstones the ' +
    'peer may lack',
  { timeout: 60_000 },
  async () => {
    const { a, b } = await pairedStores('cut');
    try {
      const opened = await open(a, b);
      const bEnded = opened.sb.whenEnded();
      await opened.sa.reconcile();
      opened.line.a.reset();
      // The goodbye a command says at the end finds the link gone: not a confirmed sync.
      await opened.sa.goodbye();
      assert.equal(opened.sa.reconcileUnconfirmed, true, 'B never confirmed what A sent');
      assert.notEqual(await opened.sa.whenEnded(), null, 'A saw the cut');
      assert.notEqual(await bEnded, null, 'B saw the cut');
      await opened.line.stop();
      assert.equal(acked(a, 'b'), 0);
      assert.equal(acked(b, 'a'), 0);
      assert.equal(a.sync.compactTombstones({ minAgeMs: 0 }), 0, 'the tombstone is kept');
      assert.equal(a.sync.entries().filter((e) => e.deleted).length, 1);
    } finally {
      a.close();
      b.close();
    }
  },
);
