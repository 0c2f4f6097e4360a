import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { exitStatusFor, isCertsyncError, type ErrorCode } from '../../../protocol/errors.ts';
import { decryptPrivateKey } from '../../keys/private-key-vault.ts';
import { decodePem } from '../../pki/index.ts';
import { buildStandardPki, type StandardPki } from '../../testing/openssl-pki.ts';
import { makeTempDir } from '../../testing/temp-dir.ts';
import { main } from '../main.ts';

// The key commands run in this process through main(), on real SQLite files and keys that
// openssl made; node/client/two-process-private-keys.test.ts sends keys between processes.

let pki: StandardPki;
let tmp: ReturnType<typeof makeTempDir>;

interface Run {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function certsync(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const status = await main(args, {
    stdout: (d) => (stdout += typeof d === 'string' ? d : Buffer.from(d).toString('latin1')),
    stderr: (d) => (stderr += d),
    env: { HOME: tmp.dir, ...env },
    cwd: tmp.dir,
  });
  return { status, stdout, stderr };
}

function assertError(run: Run, code: ErrorCode, pattern: RegExp): void {
  assert.equal(run.status, exitStatusFor(code), run.stderr);
  assert.match(run.stderr, pattern);
}

function openssl(...args: string[]): Buffer {
  return execFileSync('openssl', args, { cwd: tmp.dir, timeout: 30_000 });
}

/** The PKCS#8 DER of a PEM key file openssl wrote. */
function pkcs8Of(path: string): Uint8Array {
  const [block] = decodePem(readFileSync(path, 'utf8'));
  assert.equal(block?.label, 'PRIVATE KEY');
  return block.der as Uint8Array;
}

function fingerprint(cert: { der: Uint8Array }): string {
  return execFileSync('sha256sum', { input: cert.der }).toString().slice(0, 64);
}

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

/** True when some 16-byte run of `secret` appears in `blob`. */
function leaks(blob: Uint8Array, secret: Uint8Array): boolean {
  const haystack = Buffer.from(blob);
  for (let i = 0; i + 16 <= secret.length; i++) {
    if (haystack.includes(Buffer.from(secret.subarray(i, i + 16)))) return true;
  }
  return false;
}

before(async () => {
  pki = await buildStandardPki();
  tmp = makeTempDir('certsync-keys-');
  writeFileSync(join(tmp.dir, 'pw'), 'correct horse battery\n');
  writeFileSync(join(tmp.dir, 'other-pw'), 'not the one\n');
  writeFileSync(join(tmp.dir, 'file-pw'), 'the file passphrase\n');
});

after(async () => {
  tmp.remove();
  await pki.cleanup();
});

describe('certsync key', () => {
  it(
    'import stores a key encrypted beside its certificate, list shows it, export gives it back',
    { timeout: 180_000 },
    async () => {
      const store = join(tmp.dir, 'own.sqlite');
      const s = ['--store', store];
      assert.equal((await certsync(['init', ...s])).status, 0);
      const certs = [pki.alice, pki.bob, pki.carol].map((c) => c.certPath);
      assert.equal((await certsync(['import', ...certs, ...s])).status, 0);

      const imported = await certsync(
        ['key', 'import', pki.alice.keyPath, '--passphrase-file', 'pw', ...s, '--json'],
        {},
      );
      assert.equal(imported.status, 0, imported.stderr);
      assert.deepEqual(JSON.parse(imported.stdout), {
        certificate: fingerprint(pki.alice),
        subject: 'O=certsync tests, CN=Alice Example, emailAddress=alice@example.org',
        algorithm: 'EC P-256',
        outcome: 'stored',
        fileEncrypted: false,
      });

      // At rest the row is a vault blob: no run of the key in clear, and it opens only with
      // the store's passphrase.
      const alice = pkcs8Of(pki.alice.keyPath);
      const [row] = rawKeys(store);
      assert.equal(row?.fingerprint, fingerprint(pki.alice));
      assert.ok(!leaks(row.encrypted, alice), 'no part of the key is stored in clear');
      assert.deepEqual(await decryptPrivateKey(row.encrypted, 'correct horse battery'), alice);
      await assert.rejects(
        decryptPrivateKey(row.encrypted, 'not the one'),
        (e: unknown) => isCertsyncError(e) && e.code === 'bad-input',
      );

      // An RSA key encrypted by openssl (PBES2), in DER, with its own passphrase; the store's
      // passphrase from the environment. The same key again in PEM is already held.
      openssl(
        'pkcs8',
        '-topk8',
        '-in',
        pki.bob.keyPath,
        '-v2',
        'aes-256-cbc',
        '-passout',
        'pass:the file passphrase',
        '-outform',
        'DER',
        '-out',
        'bob-enc.der',
      );
      openssl(
        'pkcs8',
        '-topk8',
        '-in',
        pki.bob.keyPath,
        '-passout',
        'pass:the file passphrase',
        '-out',
        'bob-enc.pem',
      );
      const env = { CERTSYNC_PASSPHRASE: 'correct horse battery' };
      const bob = await certsync(
        ['key', 'import', 'bob-enc.der', '--input-passphrase-file', 'file-pw', ...s, '--json'],
        env,
      );
      assert.equal(bob.status, 0, bob.stderr);
      assert.equal(JSON.parse(bob.stdout).algorithm, 'RSA 2048');
      assert.equal(JSON.parse(bob.stdout).fileEncrypted, true);
      const again = await certsync(
        ['key', 'import', 'bob-enc.pem', '--input-passphrase-file', 'file-pw', ...s, '--json'],
        env,
      );
      assert.equal(JSON.parse(again.stdout).outcome, 'unchanged', again.stderr);

      // One passphrase per store: another one is refused, and nothing is stored.
      assertError(
        await certsync(['key', 'import', pki.carol.keyPath, '--passphrase-file', 'other-pw', ...s]),
        'bad-input',
        /wrong passphrase/,
      );
      assert.equal(rawKeys(store).length, 2);

      const listed = await certsync(['key', 'list', ...s, '--json']);
      assert.deepEqual(
        (JSON.parse(listed.stdout) as { certificate: string }[]).map((k) => k.certificate).sort(),
        [fingerprint(pki.alice), fingerprint(pki.bob)].sort(),
      );

      const prefix = fingerprint(pki.alice).slice(0, 12);
      const exported = await certsync([
        'key',
        'export',
        prefix,
        '--out',
        'alice-out.pem',
        '--passphrase-file',
        'pw',
        ...s,
      ]);
      assert.equal(exported.status, 0, exported.stderr);
      assert.equal(statSync(join(tmp.dir, 'alice-out.pem')).mode & 0o777, 0o600);
      const exportedPublic = openssl('pkey', '-in', 'alice-out.pem', '-pubout').toString();
      const certPublic = openssl('x509', '-in', pki.alice.certPath, '-pubkey', '-noout');
      assert.equal(exportedPublic, certPublic.toString(), 'the key of the certificate');
      assert.deepEqual(pkcs8Of(join(tmp.dir, 'alice-out.pem')), alice);

      assertError(
        await certsync(['key', 'export', prefix, '--passphrase-file', 'other-pw', ...s]),
        'bad-input',
        /wrong passphrase/,
      );
    },
  );

  it(
    'delete removes a stored key only with --yes, and leaves its certificate',
    { timeout: 120_000 },
    async () => {
      const store = join(tmp.dir, 'deleting.sqlite');
      const s = ['--store', store];
      await certsync(['init', ...s]);
      await certsync(['import', pki.alice.certPath, pki.bob.certPath, ...s]);
      for (const c of [pki.alice, pki.bob]) {
        const r = await certsync(['key', 'import', c.keyPath, '--passphrase-file', 'pw', ...s]);
        assert.equal(r.status, 0, r.stderr);
      }
      const alice = fingerprint(pki.alice).slice(0, 12);
      const unconfirmed = await certsync(['key', 'delete', alice, ...s]);
      assert.equal(unconfirmed.status, 2, unconfirmed.stderr);
      assert.match(unconfirmed.stderr, /Alice Example .* for good: export it first .* --yes/);
      assert.equal(rawKeys(store).length, 2, 'nothing removed without --yes');

      const deleted = await certsync(['key', 'delete', alice, '--yes', '--json', ...s]);
      assert.equal(deleted.status, 0, deleted.stderr);
      assert.deepEqual(JSON.parse(deleted.stdout), {
        certificate: fingerprint(pki.alice),
        outcome: 'deleted',
      });
      assert.deepEqual(
        rawKeys(store).map((k) => k.fingerprint),
        [fingerprint(pki.bob)],
      );
      const listed = JSON.parse((await certsync(['list', '--json', ...s])).stdout) as {
        fingerprint: string;
      }[];
      assert.ok(
        listed.some((c) => c.fingerprint === fingerprint(pki.alice)),
        'cert stays',
      );
      assertError(
        await certsync(['key', 'delete', alice, '--yes', ...s]),
        'not-found',
        /no private key for this certificate/,
      );
    },
  );

  it(
    'import refuses what is not the PKCS#8 key of a certificate in the store',
    { timeout: 120_000 },
    async () => {
      const store = join(tmp.dir, 'refusing.sqlite');
      const s = ['--store', store, '--passphrase-file', 'pw'];
      await certsync(['init', '--store', store]);
      await certsync(['import', pki.alice.certPath, pki.bob.certPath, '--store', store]);
      assertError(
        await certsync(['key', 'import', pki.dave.keyPath, ...s]),
        'not-found',
        /import the certificate first/,
      );
      openssl('pkey', '-in', pki.alice.keyPath, '-traditional', '-out', 'alice-ec.pem');
      assertError(
        await certsync(['key', 'import', 'alice-ec.pem', ...s]),
        'bad-input',
        /EC PRIVATE KEY block is not PKCS#8; convert it with `openssl pkcs8 -topk8`/,
      );
      assertError(
        await certsync(['key', 'import', pki.alice.certPath, ...s]),
        'bad-input',
        /no PRIVATE KEY block/,
      );
      openssl(
        'pkcs8',
        '-topk8',
        '-in',
        pki.alice.keyPath,
        '-passout',
        'pass:the file passphrase',
        '-out',
        'alice-enc.pem',
      );
      assertError(
        await certsync(['key', 'import', 'alice-enc.pem', ...s]),
        'bad-input',
        /alice-enc.pem: the encrypted key does not open with this passphrase/,
      );
      const none = await certsync(['key', 'import', pki.alice.keyPath, '--store', store]);
      assert.equal(none.status, 2, none.stderr);
      assert.match(none.stderr, /--passphrase-file FILE, \$CERTSYNC_PASSPHRASE, or a terminal/);
      assert.equal(rawKeys(store).length, 0, 'nothing was stored');
    },
  );
});
