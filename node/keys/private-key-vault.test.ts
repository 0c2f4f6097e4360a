import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isCertsyncError } from '../../protocol/errors.ts';
import { decryptPrivateKey, encryptPrivateKey, prepareEncryption } from './private-key-vault.ts';

const cheap = { logN: 10, r: 8, p: 1 };
const badInput = (e: unknown) => isCertsyncError(e) && e.code === 'bad-input';

/** A real PKCS#8 key from openssl. */
function opensslKey(): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'certsync-vault-'));
  try {
    const file = join(dir, 'key.der');
    execFileSync(
      'openssl',
      [
        'genpkey',
        '-algorithm',
        'EC',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-outform',
        'DER',
        '-out',
        file,
      ],
      { stdio: 'ignore', timeout: 30_000 },
    );
    return new Uint8Array(readFileSync(file));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a PKCS#8 key encrypted at rest opens only with its passphrase', async () => {
  const key = opensslKey();
  const blob = await encryptPrivateKey(key, 'correct horse', { cost: cheap });
  assert.equal(
    Buffer.from(blob).indexOf(Buffer.from(key.subarray(-32))),
    -1,
    'no key bytes in clear',
  );
  assert.deepEqual(await decryptPrivateKey(blob, 'correct horse'), key);
  await assert.rejects(decryptPrivateKey(blob, 'correct horse '), badInput);
  const again = await encryptPrivateKey(key, 'correct horse', { cost: cheap });
  assert.notDeepEqual(again, blob, 'a fresh salt and nonce every time');
});

test('the passphrase is compared after Unicode normalisation', async () => {
  const key = opensslKey();
  const blob = await encryptPrivateKey(key, 'caf\u00e9', { cost: cheap });
  assert.deepEqual(await decryptPrivateKey(blob, 'cafe\u0301'), key);
});

test('a damaged or hostile blob is bad input, and never costs more than the limits', async () => {
  const key = opensslKey();
  const blob = await encryptPrivateKey(key, 'pw', { cost: cheap });
  for (const at of [0, 10, 30, blob.length - 1]) {
    const copy = blob.slice();
    copy[at] = (copy[at] as number) ^ 1;
    await assert.rejects(decryptPrivateKey(copy, 'pw'), badInput, `byte ${at}`);
  }
  const greedy = blob.slice();
  greedy[4] = 30; // N = 2^30 would need 128 GiB
  await assert.rejects(decryptPrivateKey(greedy, 'pw'), badInput);
  await assert.rejects(decryptPrivateKey(blob.subarray(0, 50), 'pw'), badInput);
  await assert.rejects(
    encryptPrivateKey(new Uint8Array([1, 2, 3]), 'pw', { cost: cheap }),
    badInput,
  );
  await assert.rejects(
    encryptPrivateKey(key, 'pw', { cost: { logN: 25, r: 8, p: 1 } }),
    RangeError,
  );
  await assert.rejects(encryptPrivateKey(key, '', { cost: cheap }), TypeError);
});

test('a sealer prepared ahead seals one key at once, as encryptPrivateKey would', async () => {
  const key = opensslKey();
  const sealer = await prepareEncryption('correct horse', { cost: cheap });
  const blob = sealer.seal(key);
  assert.deepEqual(await decryptPrivateKey(blob, 'correct horse'), key);
  await assert.rejects(decryptPrivateKey(blob, 'wrong horse'), badInput);
  assert.throws(() => sealer.seal(key), RangeError, 'its nonce is used once');
  const fresh = await prepareEncryption('correct horse', { cost: cheap });
  assert.throws(() => fresh.seal(new Uint8Array([1, 2, 3])), badInput);
});
