/**
 * The identity and the paired peers as the user sees them: `certsync init` makes the key
 * pair and keeps it in the store, `certsync id` shows its fingerprint, pairing stores the
 * peer under a name with that same fingerprint, and `certsync peers` lists and removes it.
 * The commands run in this process through the CLI's own entry point, on real SQLite files.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { exitStatusFor } from '../../protocol/errors.ts';
import { identityFingerprint } from '../../protocol/secure/fingerprint.ts';
import { formatPairingSecret } from '../../protocol/secure/pairing.ts';
import { acceptSession, connectSession } from '../client/peer-session.ts';
import { main } from '../cli/main.ts';
import { Store } from '../store/index.ts';
import { makeTempDir } from '../testing/temp-dir.ts';
import { modelPair } from './test-relay.ts';

let temp: { dir: string; remove: () => void };

before(() => {
  temp = makeTempDir('certsync-identity-');
});

after(() => temp.remove());

async function certsync(args: string[]): Promise<{ status: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const status = await main(args, {
    stdout: (d) => void (out += String(d)),
    stderr: (d) => void (err += d),
    env: {},
    cwd: temp.dir,
  });
  return { status, out, err };
}

async function json<T>(args: string[]): Promise<T> {
  const r = await certsync([...args, '--json']);
  assert.equal(r.status, 0, r.err);
  return JSON.parse(r.out) as T;
}

/** Pairs the two stores with a one-time secret, as `serve --pair` and `sync --pair` do. */
async function pairStores(pcPath: string, phonePath: string): Promise<void> {
  const pc = Store.open(pcPath);
  const phone = Store.open(phonePath);
  const secret = formatPairingSecret(new Uint8Array(16).fill(11));
  const { a, b, cleanup } = modelPair();
  try {
    const [x, y] = await Promise.all([
      connectSession(a, {
        store: pc,
        autoSync: false,
        intent: { kind: 'pair-secret', name: 'phone', secret },
      }),
      acceptSession(b, {
        store: phone,
        autoSync: false,
        pairing: { kind: 'pair-secret', name: 'pc', secret },
      }),
    ]);
    await x.goodbye();
    await y.whenEnded();
  } finally {
    await cleanup();
    pc.close();
    phone.close();
  }
}

const FINGERPRINT = /^[0-9a-f]{4}(-[0-9a-f]{4}){7}$/;

test('init makes an identity kept in the store; id shows its fingerprint', async () => {
  const path = join(temp.dir, 'one.sqlite');
  const other = join(temp.dir, 'two.sqlite');
  assert.equal((await certsync(['init', '--store', path])).status, 0);
  assert.equal((await certsync(['init', '--store', other])).status, 0);

  const shown = await json<{ fingerprint: string }>(['id', '--store', path]);
  assert.match(shown.fingerprint, FINGERPRINT);
  const store = Store.open(path);
  try {
    assert.equal(shown.fingerprint, identityFingerprint(store.identity().x25519PublicKey));
  } finally {
    store.close();
  }
  const text = await certsync(['id', '--store', path]);
  assert.match(text.out, new RegExp(`^identity ${shown.fingerprint}$`, 'm'));
  const again = await json<{ fingerprint: string }>(['id', '--store', path]);
  assert.equal(again.fingerprint, shown.fingerprint, 'the key stays; it is not made anew');
  const second = await json<{ fingerprint: string }>(['id', '--store', other]);
  assert.notEqual(second.fingerprint, shown.fingerprint, 'each store has its own key');
});

test('a paired peer is listed by name with the fingerprint its id shows; remove forgets it', async () => {
  const pc = join(temp.dir, 'pc.sqlite');
  const phone = join(temp.dir, 'phone.sqlite');
  await certsync(['init', '--store', pc]);
  await certsync(['init', '--store', phone]);
  assert.deepEqual(await json<unknown[]>(['peers', '--store', pc]), []);
  await pairStores(pc, phone);

  type Listed = { name: string; fingerprint: string }[];
  const phoneId = await json<{ fingerprint: string }>(['id', '--store', phone]);
  const pcId = await json<{ fingerprint: string }>(['id', '--store', pc]);
  const pcPeers = await json<Listed>(['peers', '--store', pc]);
  const phonePeers = await json<Listed>(['peers', '--store', phone]);
  assert.deepEqual(
    pcPeers.map((p) => [p.name, p.fingerprint]),
    [['phone', phoneId.fingerprint]],
  );
  assert.deepEqual(
    phonePeers.map((p) => [p.name, p.fingerprint]),
    [['pc', pcId.fingerprint]],
  );
  const table = await certsync(['peers', '--store', pc]);
  assert.match(table.out, new RegExp(`phone +${phoneId.fingerprint}`));

  const removed = await certsync(['peers', 'remove', 'phone', '--store', pc]);
  assert.equal(removed.status, 0, removed.err);
  assert.deepEqual(await json<unknown[]>(['peers', '--store', pc]), []);
  const missing = await certsync(['peers', 'remove', 'phone', '--store', pc]);
  assert.equal(missing.status, exitStatusFor('not-found'));
  assert.match(missing.err, /phone: not paired/);

  // Forgotten means unpaired: the next session is refused until the two pair again.
  const pcStore = Store.open(pc);
  const phoneStore = Store.open(phone);
  const { a, b, cleanup } = modelPair();
  try {
    const [x, y] = await Promise.allSettled([
      connectSession(a, { store: pcStore, autoSync: false, intent: { kind: 'session' } }),
      acceptSession(b, { store: phoneStore, autoSync: false }),
    ]);
    assert.equal(x.status, 'rejected');
    assert.equal((x as PromiseRejectedResult).reason.code, 'not-paired');
    assert.equal(y.status, 'rejected');
  } finally {
    await cleanup();
    pcStore.close();
    phoneStore.close();
  }
});
