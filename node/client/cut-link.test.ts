import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { realClock } from '../../transports/clock.ts';
import { createModelLinkPair } from '../../transports/model/link-model.ts';
import { SERIAL_115200 } from '../../transports/model/presets.ts';
import { formatPairingSecret } from '../../protocol/secure/pairing.ts';
import { parseCertificate, sha256, toHex } from '../pki/index.ts';
import { Store } from '../store/index.ts';
import { CertificateFactory, makeTemplateCertificate } from '../testing/certificate-factory.ts';
import { OpensslPki } from '../testing/openssl-pki.ts';
import { makeTempDir } from '../testing/temp-dir.ts';
import { acceptSession, connectSession } from './peer-session.ts';
import { integrityCheck } from './test-processes.ts';

// A fast line, so that many cut runs stay quick; the cut is what is under test.
const LINE = { ...SERIAL_115200, name: 'fast-serial', bitRate: 20_000_000, maxFrameSize: 65_536 };
const SECRET = formatPairingSecret(new Uint8Array(16).fill(7));

let temp: { dir: string; remove: () => void };
let certs: Uint8Array[];

before(async () => {
  temp = makeTempDir('certsync-cut-');
  const pki = await OpensslPki.create();
  try {
    const factory = new CertificateFactory((await makeTemplateCertificate(pki)).der);
    certs = Array.from({ length: 90 }, (_, i) => factory.make(i));
  } finally {
    await pki.cleanup();
  }
});

after(() => temp.remove());

/** Two stores: a holds 0..59, b holds 30..89; each deleted one of its own first. */
function makeStores(name: string): { a: string; b: string } {
  const a = join(temp.dir, `${name}-a.sqlite`);
  const b = join(temp.dir, `${name}-b.sqlite`);
  for (const [path, from, to] of [
    [a, 0, 60],
    [b, 30, 90],
  ] as const) {
    const s = Store.open(path, { create: true });
    s.certificates.add(
      certs.slice(from, to).map((d) => parseCertificate(d)),
      { source: 'test' },
    );
    s.certificates.delete([sha256(certs[from] as Uint8Array)]);
    s.close();
  }
  return { a, b };
}

/** Pairs the two stores (once, over an uncut link). */
async function pair(a: Store, b: Store): Promise<void> {
  const line = createModelLinkPair(LINE, { clock: realClock });
  const [x, y] = await Promise.all([
    connectSession(line.a, {
      store: a,
      autoSync: false,
      intent: { kind: 'pair-secret', name: 'b', secret: SECRET },
    }),
    acceptSession(line.b, {
      store: b,
      autoSync: false,
      pairing: { kind: 'pair-secret', name: 'a', secret: SECRET },
    }),
  ]);
  await x.goodbye();
  await y.whenEnded();
}

/** One session that reconciles; the line breaks at `cutAtByte` (if given). */
async function syncOnce(a: Store, b: Store, cutAtByte?: number) {
  const line = createModelLinkPair(LINE, {
    clock: realClock,
    ...(cutAtByte !== undefined ? { cutAtByte } : {}),
  });
  const server = acceptSession(line.b, { store: b, autoSync: false }).then(
    (s) => s.whenEnded(),
    (e: unknown) => e,
  );
  let outcome: 'done' | 'failed' = 'failed';
  try {
    const s = await connectSession(line.a, {
      store: a,
      autoSync: false,
      intent: { kind: 'session', peer: 'b' },
    });
    await s.reconcile();
    await s.goodbye();
    outcome = (await s.whenEnded()) === null ? 'done' : 'failed';
  } catch {
    outcome = 'failed';
  }
  await server;
  await Promise.all([line.a.close(), line.b.close()]).catch(() => undefined);
  return { outcome, bytes: line.stats().deliveredBytes };
}

/** What a store holds: live certificates and tombstones, by fingerprint. */
function contents(path: string): { live: string[]; deleted: string[] } {
  const s = Store.open(path);
  try {
    const entries = s.sync.entries();
    return {
      live: entries
        .filter((e) => !e.deleted)
        .map((e) => toHex(e.fingerprint))
        .sort(),
      deleted: entries
        .filter((e) => e.deleted)
        .map((e) => toHex(e.fingerprint))
        .sort(),
    };
  } finally {
    s.close();
  }
}

/** Store invariants after any failure: whole file, every row's DER hashes to its key. */
function assertWhole(path: string): void {
  assert.equal(integrityCheck(path), 'ok', path);
  const s = Store.open(path);
  try {
    for (const r of s.certificates.list('store')) {
      assert.equal(
        toHex(sha256(s.certificates.der(r.fingerprint) as Uint8Array)),
        r.fingerprintHex,
      );
    }
    const live = new Set(
      s.sync
        .entries()
        .filter((e) => !e.deleted)
        .map((e) => toHex(e.fingerprint)),
    );
    const dead = s.sync
      .entries()
      .filter((e) => e.deleted)
      .map((e) => toHex(e.fingerprint));
    assert.ok(
      dead.every((d) => !live.has(d)),
      'nothing is both live and deleted',
    );
  } finally {
    s.close();
  }
}

test(
  'a sync cut at many points leaves both stores whole, and a rerun completes with nothing lost',
  { timeout: 240_000 },
  async () => {
    // The reference: the same stores synced over a line that never breaks.
    const ref = makeStores('ref');
    {
      const a = Store.open(ref.a);
      const b = Store.open(ref.b);
      await pair(a, b);
      const full = await syncOnce(a, b);
      a.close();
      b.close();
      assert.equal(full.outcome, 'done');
      assert.ok(full.bytes > 10_000, `a sync of 90 certificates moved ${full.bytes} bytes`);
      const expected = contents(ref.a);
      assert.deepEqual(contents(ref.b), expected, 'synced stores hold the same');
      assert.equal(expected.live.length, 88, 'the union less the two deletions');
      assert.equal(expected.deleted.length, 2);

      const cuts = 14;
      for (let k = 1; k <= cuts; k++) {
        const cutAt = Math.floor((full.bytes * k) / (cuts + 1));
        const run = makeStores(`cut${k}`);
        const sa = Store.open(run.a);
        const sb = Store.open(run.b);
        await pair(sa, sb);
        const broken = await syncOnce(sa, sb, cutAt);
        sa.close();
        sb.close();
        assert.equal(broken.outcome, 'failed', `the cut at byte ${cutAt} ended the session`);
        assertWhole(run.a);
        assertWhole(run.b);
        const sa2 = Store.open(run.a);
        const sb2 = Store.open(run.b);
        const again = await syncOnce(sa2, sb2);
        sa2.close();
        sb2.close();
        assert.equal(again.outcome, 'done', `the rerun after a cut at byte ${cutAt} completed`);
        assert.deepEqual(contents(run.a), expected, `nothing lost after a cut at byte ${cutAt}`);
        assert.deepEqual(contents(run.b), expected);
      }
    }
  },
);
