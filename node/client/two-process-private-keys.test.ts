/**
 * Private keys between two real `certsync` processes on real SQLite stores, over TCP on
 * 127.0.0.1, with keys and certificates made by openssl: a key crosses only to a paired peer
 * whose user allowed it, named alone, never in a reconcile or a plain push, and lands
 * encrypted under the receiver's own passphrase.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { exitStatusFor, isCertsyncError } from '../../protocol/errors.ts';
import { decryptPrivateKey } from '../keys/private-key-vault.ts';
import { decodePem } from '../pki/index.ts';
import { Store } from '../store/index.ts';
import { buildStandardPki, type StandardPki } from '../testing/openssl-pki.ts';
import { certsyncJson, runCertsync, ServeProcess } from './test-processes.ts';

let pki: StandardPki;
let dir: string;
/** Alice's certificate fingerprint, hex, and her key as openssl wrote it (PKCS#8 DER). */
let alice: string;
let aliceKey: Uint8Array;
/** The pc every test pairs with: see {@link pcWithKey}. */
let pc: string;

const PASSPHRASES = { pc: 'pc passphrase', phone: 'phone passphrase', wrong: 'wrong one' };

before(async () => {
  pki = await buildStandardPki();
  dir = await mkdtemp(join(tmpdir(), 'certsync-private-keys-'));
  for (const name of ['alice', 'bob', 'root', 'intermediate'] as const) {
    await writeFile(join(dir, `${name}.pem`), pki[name].pem);
  }
  for (const [name, text] of Object.entries(PASSPHRASES)) {
    await writeFile(join(dir, `${name}.pw`), `${text}\n`);
  }
  alice = execFileSync('sha256sum', { input: pki.alice.der }).toString().slice(0, 64);
  const [block] = decodePem(await readFile(pki.alice.keyPath, 'utf8'));
  aliceKey = block?.der as Uint8Array;
  pc = await pcWithKey('pc');
});

after(async () => {
  await pki.cleanup();
  await rm(dir, { recursive: true, force: true });
});

/** The raw private_keys rows of a store file. */
function rawKeys(store: string): { fingerprint: string; encrypted: Buffer }[] {
  const db = new Database(store, { readonly: true });
  try {
    return (
      db.prepare('SELECT fingerprint, encrypted FROM private_keys').all() as {
        fingerprint: Buffer;
        encrypted: Buffer;
      }[]
    ).map((r) => ({ fingerprint: r.fingerprint.toString('hex'), encrypted: r.encrypted }));
  } finally {
    db.close();
  }
}

function certificates(store: string): string[] {
  const s = Store.open(store);
  try {
    return s.certificates.list('store').map((r) => r.fingerprintHex);
  } finally {
    s.close();
  }
}

async function init(name: string, ...files: string[]): Promise<string> {
  const store = join(dir, `${name}.sqlite`);
  assert.equal((await runCertsync(['init', '--store', store], dir)).status, 0);
  if (files.length > 0) {
    const r = await runCertsync(['import', '--store', store, ...files], dir);
    assert.equal(r.status, 0, r.stderr);
  }
  return store;
}

async function secretOf(store: string): Promise<string> {
  return (await certsyncJson<{ secret: string }>(['id', '--store', store, '--secret'], dir)).secret;
}

/** The pc: alice, her CA chain and bob, and alice's private key under the pc's passphrase. */
async function pcWithKey(name: string): Promise<string> {
  const store = await init(name, 'alice.pem', 'bob.pem', 'root.pem', 'intermediate.pem');
  const r = await runCertsync(
    ['key', 'import', pki.alice.keyPath, '--store', store, '--passphrase-file', 'pc.pw'],
    dir,
  );
  assert.equal(r.status, 0, r.stderr);
  return store;
}

const tcp = (serve: ServeProcess) => ['--link', 'tcp', '--port', String(serve.port)];

test(
  'push --private-key: the receiver stores the key encrypted under its own passphrase, and its export is the key of the certificate',
  { timeout: 300_000 },
  async () => {
    const phone = await init('phone');
    const secret = await secretOf(pc);
    const serve = await ServeProcess.start(
      ['--store', phone, '--link', 'tcp', '--port', '0', '--pair', 'pc', '--secret', secret].concat(
        ['--accept-private-keys', '--passphrase-file', 'phone.pw'],
      ),
      dir,
    );
    let served;
    try {
      const pushed = await certsyncJson<{ privateKey: { certificate: string; outcome: string } }>(
        ['push', '--store', pc, ...tcp(serve), '--pair', 'phone', '--secret', secret].concat([
          '--private-key',
          alice.slice(0, 16),
          '--passphrase-file',
          'pc.pw',
        ]),
        dir,
      );
      assert.deepEqual(pushed.privateKey, { certificate: alice, outcome: 'stored' });
    } finally {
      served = await serve.stop();
    }
    assert.equal(served.status, 0, served.stderr);
    assert.match(served.stdout, new RegExp(`private key of ${alice.slice(0, 16)}: stored`));

    // The phone pulled the certificate it lacked, then the key; only alice's.
    assert.deepEqual(certificates(phone), [alice]);
    const rows = rawKeys(phone);
    assert.deepEqual(
      rows.map((r) => r.fingerprint),
      [alice],
    );
    const blob = (rows[0] as { encrypted: Buffer }).encrypted;
    assert.notDeepEqual(new Uint8Array(blob), aliceKey);
    assert.equal(blob.indexOf(Buffer.from(aliceKey.subarray(30, 62))), -1, 'not in clear');
    assert.deepEqual(await decryptPrivateKey(blob, PASSPHRASES.phone), aliceKey);
    await assert.rejects(
      decryptPrivateKey(blob, PASSPHRASES.pc),
      (e: unknown) => isCertsyncError(e) && e.code === 'bad-input',
      "the phone's own passphrase, not the pc's",
    );

    const exported = await runCertsync(
      [
        'key',
        'export',
        alice.slice(0, 8),
        '--store',
        phone,
        '--passphrase-file',
        'phone.pw',
      ].concat(['--out', 'from-phone.pem']),
      dir,
    );
    assert.equal(exported.status, 0, exported.stderr);
    const fromKey = execFileSync('openssl', ['pkey', '-in', 'from-phone.pem', '-pubout'], {
      cwd: dir,
    });
    const fromCert = execFileSync('openssl', ['x509', '-in', 'alice.pem', '-pubkey', '-noout'], {
      cwd: dir,
    });
    assert.equal(fromKey.toString(), fromCert.toString());
  },
);

test(
  'a key goes only to a paired peer that allowed it; a reconcile and a plain push carry none',
  { timeout: 300_000 },
  async () => {
    const phone = await init('phone2');
    const secret = await secretOf(pc);
    const refusing = await ServeProcess.start(
      ['--store', phone, '--link', 'tcp', '--port', '0', '--pair', 'pc', '--secret', secret],
      dir,
    );
    try {
      const r = await runCertsync(
        ['push', '--store', pc, ...tcp(refusing), '--pair', 'phone2', '--secret', secret].concat([
          '--private-key',
          alice,
          '--passphrase-file',
          'pc.pw',
          '--wait',
          '3',
        ]),
        dir,
      );
      assert.equal(r.status, exitStatusFor('private-key-refused'), r.stderr);
      assert.match(r.stderr, /did not ask for the private key.*--accept-private-keys/);
    } finally {
      await refusing.stop();
    }
    assert.deepEqual(rawKeys(phone), [], 'nothing stored without consent');

    const accepting = await ServeProcess.start(
      ['--store', phone, '--link', 'tcp', '--port', '0', '--accept-private-keys'].concat([
        '--passphrase-file',
        'phone.pw',
      ]),
      dir,
    );
    try {
      const link = [...tcp(accepting), '--peer', 'phone2'];
      // A push without --private-key sends the certificate alone, a reconcile certificates.
      const plain = await certsyncJson<{ counts: Record<string, number> }>(
        ['push', '--store', pc, ...link, '--fingerprint', alice, '--offline'],
        dir,
      );
      assert.deepEqual(plain.counts, { stored: 1 });
      const synced = await certsyncJson<{ certificates: number }>(
        ['sync', '--store', pc, ...link],
        dir,
      );
      assert.equal(synced.certificates, 4);

      // The key goes only alone: never beside a selection.
      const mixed = await runCertsync(
        ['push', '--store', pc, ...link, '--private-key', alice, '--email', 'alice@example.org'],
        dir,
      );
      assert.equal(mixed.status, 2, mixed.stderr);
      assert.match(mixed.stderr, /--private-key names exactly one key.*--email/);
    } finally {
      const served = await accepting.stop();
      assert.equal(served.status, 0, served.stderr);
    }
    assert.equal(certificates(phone).length, 4);
    assert.deepEqual(rawKeys(phone), [], 'no key came with the certificates');
  },
);

test(
  'pull --private-key fetches the one named key from a peer that allows sending keys',
  { timeout: 300_000 },
  async () => {
    const laptop = await init('laptop');
    const secret = await secretOf(pc);

    // A wrong passphrase is told before anything else happens.
    const wrongServe = await runCertsync(
      ['serve', '--store', pc, '--link', 'tcp', '--port', '0', '--send-private-keys'].concat([
        '--passphrase-file',
        'wrong.pw',
      ]),
      dir,
    );
    assert.equal(wrongServe.status, exitStatusFor('bad-input'), wrongServe.stderr);
    assert.match(wrongServe.stderr, /wrong passphrase/);
    const wrongPush = await runCertsync(
      ['push', '--store', pc, '--link', 'tcp', '--port', '9', '--private-key', alice].concat([
        '--passphrase-file',
        'wrong.pw',
      ]),
      dir,
    );
    assert.equal(wrongPush.status, exitStatusFor('bad-input'), wrongPush.stderr);
    assert.match(wrongPush.stderr, /wrong passphrase/);

    const sending = await ServeProcess.start(
      [
        '--store',
        pc,
        '--link',
        'tcp',
        '--port',
        '0',
        '--pair',
        'laptop',
        '--secret',
        secret,
      ].concat(['--send-private-keys', '--passphrase-file', 'pc.pw']),
      dir,
    );
    try {
      await writeFile(join(dir, 'laptop.pw'), 'laptop passphrase\n');
      const pulled = await certsyncJson<{ privateKey: { certificate: string; outcome: string } }>(
        ['pull', '--store', laptop, ...tcp(sending), '--pair', 'pc', '--secret', secret].concat([
          '--private-key',
          alice.slice(0, 10),
          '--passphrase-file',
          'laptop.pw',
        ]),
        dir,
      );
      assert.deepEqual(pulled.privateKey, { certificate: alice, outcome: 'stored' });
      // Keys the peer lists are never taken by a selection.
      const all = await certsyncJson<{ counts: Record<string, number> }>(
        ['pull', '--store', laptop, ...tcp(sending), '--all'],
        dir,
      );
      assert.deepEqual(all.counts, { stored: 3, unchanged: 1 });

      // A stranger asking for the same key gets no further than the handshake.
      const stranger = await init('stranger');
      const r = await runCertsync(
        ['pull', '--store', stranger, ...tcp(sending), '--private-key', alice].concat([
          '--passphrase-file',
          'laptop.pw',
        ]),
        dir,
      );
      assert.equal(r.status, exitStatusFor('not-paired'), r.stderr);
      assert.deepEqual(rawKeys(stranger), []);
    } finally {
      await sending.stop();
    }
    const [row] = rawKeys(laptop);
    assert.equal(row?.fingerprint, alice);
    assert.deepEqual(await decryptPrivateKey(row.encrypted, 'laptop passphrase'), aliceKey);
    assert.equal(rawKeys(laptop).length, 1);

    const closed = await ServeProcess.start(['--store', pc, '--link', 'tcp', '--port', '0'], dir);
    try {
      const r = await runCertsync(
        ['pull', '--store', laptop, ...tcp(closed), '--private-key', alice].concat([
          '--passphrase-file',
          'laptop.pw',
        ]),
        dir,
      );
      assert.equal(r.status, exitStatusFor('private-key-refused'), r.stderr);
      assert.match(r.stderr, /offers no private keys.*--send-private-keys/);
    } finally {
      await closed.stop();
    }
  },
);
