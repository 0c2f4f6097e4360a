/**
 * A paired peer that breaks the private-key rules, in one process over a real TCP connection
 * on 127.0.0.1 with real SQLite stores and openssl keys: a key that is not its certificate's,
 * a key asked for beside another item, a key that comes without being expected. None is
 * stored. node/client/two-process-private-keys.test.ts runs the commands themselves.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { hexOf } from '../../protocol/wire/hex.ts';
import { formatPairingSecret } from '../../protocol/secure/pairing.ts';
import { connectTcpLink, listenTcpLink } from '../../transports/tcp.ts';
import { decodePem, parseCertificate, sha256 } from '../pki/index.ts';
import { Store, type CertificateRecord } from '../store/index.ts';
import { buildStandardPki, type StandardPki } from '../testing/openssl-pki.ts';
import { makeTempDir } from '../testing/temp-dir.ts';
import { acceptSession, connectSession } from './peer-session.ts';
import { takeOfferedKey } from './private-key-transfer.ts';
import { SessionKeys, type KeyOffer } from './session-keys.ts';

const SECRET = formatPairingSecret(new Uint8Array(16).fill(4));

let pki: StandardPki;
let temp: { dir: string; remove: () => void };
let pc: Store;
let phone: Store;
let aliceCert: CertificateRecord;
let aliceKey: Uint8Array;
let bobKey: Uint8Array;

async function keyOf(path: string): Promise<Uint8Array> {
  return decodePem(await readFile(path, 'utf8'))[0]?.der as Uint8Array;
}

/** One session: the pc connects with `offers`, the phone accepts with its own keys. */
async function session(offers: readonly KeyOffer[], pair = false) {
  const listener = await listenTcpLink({ port: 0 });
  const [a, b] = await Promise.all([connectTcpLink(listener.port), listener.accept()]);
  const pcKeys = new SessionKeys(pc, offers);
  const phoneKeys = new SessionKeys(phone);
  const [sa, sb] = await Promise.all([
    connectSession(a, {
      store: pc,
      autoSync: false,
      keys: pcKeys,
      intent: pair
        ? { kind: 'pair-secret', name: 'phone', secret: SECRET }
        : { kind: 'session', peer: 'phone' },
    }),
    acceptSession(b, {
      store: phone,
      autoSync: false,
      keys: phoneKeys,
      ...(pair ? { pairing: { kind: 'pair-secret', name: 'pc', secret: SECRET } as const } : {}),
    }),
  ]);
  return {
    pc: sa,
    phone: sb,
    pcKeys,
    phoneKeys,
    end: async () => {
      await sa.goodbye();
      await sb.whenEnded();
      await listener.close();
    },
  };
}

before(async () => {
  pki = await buildStandardPki();
  temp = makeTempDir('certsync-session-keys-');
  pc = Store.open(join(temp.dir, 'pc.sqlite'), { create: true });
  phone = Store.open(join(temp.dir, 'phone.sqlite'), { create: true });
  pc.certificates.add([parseCertificate(pki.alice.der)], { source: 'test' });
  aliceCert = pc.certificates.list('store')[0] as CertificateRecord;
  aliceKey = await keyOf(pki.alice.keyPath);
  bobKey = await keyOf(pki.bob.keyPath);
  const first = await session([], true);
  await first.end();
});

after(async () => {
  pc.close();
  phone.close();
  temp.remove();
  await pki.cleanup();
});

test('a key offered for a certificate it does not belong to is refused as invalid', async () => {
  const s = await session([{ certificate: aliceCert, pkcs8: bobKey }]);
  const taken = await takeOfferedKey(s.phone, s.phoneKeys, phone, 'phone passphrase');
  await s.end();
  assert.equal(taken?.certificate, aliceCert.fingerprintHex);
  assert.deepEqual(
    { outcome: taken?.result.outcome, code: taken?.result.code },
    { outcome: 'invalid', code: 'bad-input' },
  );
  assert.ok(phone.certificates.has(aliceCert.fingerprint), 'the certificate came along');
  assert.deepEqual(phone.privateKeys.list(), [], 'no key stored');
});

test('a key asked for beside another item is left out by the sender', async () => {
  const s = await session([{ certificate: aliceCert, pkcs8: aliceKey }]);
  const id = s.pcKeys.offeredId(aliceCert.fingerprintHex) as string;
  assert.equal(id, hexOf(sha256(aliceKey)));
  await s.phoneKeys.expect(aliceCert.fingerprint, 'phone passphrase');
  const got = await s.phone.pull('add', [sha256(aliceKey), aliceCert.fingerprint]);
  await s.end();
  assert.deepEqual(
    got.results.map((r) => r.outcome),
    ['unchanged'],
    'only the certificate arrived',
  );
  assert.deepEqual(phone.privateKeys.list(), []);
});

test('a key the receiver did not expect is refused, and one it expected is stored', async () => {
  const s = await session([{ certificate: aliceCert, pkcs8: aliceKey }]);
  const unexpected = await s.phone.pull('add', [sha256(aliceKey)]);
  assert.deepEqual(
    unexpected.results.map((r) => [r.outcome, r.code]),
    [['refused', 'private-key-refused']],
  );
  assert.deepEqual(phone.privateKeys.list(), []);
  const taken = await takeOfferedKey(s.phone, s.phoneKeys, phone, 'phone passphrase');
  await s.end();
  assert.equal(taken?.result.outcome, 'stored');
  assert.deepEqual(
    phone.privateKeys.list().map((fp) => hexOf(fp)),
    [aliceCert.fingerprintHex],
  );
});

test('without offers a session lists no key and sends none asked for', async () => {
  const s = await session([]);
  const listed = await s.phone.list('store');
  const got = await s.phone.pull('add', [sha256(aliceKey)]);
  await s.end();
  assert.ok(listed.every((e) => e.kind !== 'key'));
  assert.deepEqual(got.results, []);
});
