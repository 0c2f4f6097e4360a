/**
 * A peer's validity report on this store, as a real SQLite store records it: every field
 * comes from the peer, so what is kept and shown is bounded and printable.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ValidityResult } from '../../protocol/messages/catalog.ts';
import { parseCertificate, sha256, toHex } from '../pki/index.ts';
import { Store } from '../store/index.ts';
import { CertificateFactory, makeTemplateCertificate } from '../testing/certificate-factory.ts';
import { buildStandardPki, type StandardPki } from '../testing/openssl-pki.ts';
import { makeTempDir } from '../testing/temp-dir.ts';
import {
  MAX_LISTED,
  MAX_REASON,
  ValidityReceiver,
  receivedValidityLines,
  receivedValiditySetting,
  type ReceivedValidity,
} from './received-validity.ts';

let pki: StandardPki;
let temp: { dir: string; remove: () => void };
let store: Store;
let ders: Uint8Array[];

before(async () => {
  pki = await buildStandardPki();
  temp = makeTempDir('certsync-received-validity-');
  const factory = new CertificateFactory((await makeTemplateCertificate(pki.pki)).der);
  ders = Array.from({ length: MAX_LISTED + 10 }, (_, i) => factory.make(i));
  store = Store.open(join(temp.dir, 'phone.sqlite'), { create: true });
  store.certificates.add(
    ders.map((d) => parseCertificate(d)),
    { source: 'test' },
  );
});
after(async () => {
  store.close();
  temp.remove();
  await pki.cleanup();
});

const recorded = (peer: string) =>
  store.settings.getJson(receivedValiditySetting(peer)) as unknown as ReceivedValidity | undefined;

test('reports that came before the peer was named are recorded once it is, and shown', () => {
  const receiver = new ValidityReceiver(store, () => 1_000);
  const bad = ders[0] as Uint8Array;
  receiver.onReport([
    { id: sha256(bad), status: 'revoked', reason: 'keyCompromise\u001b[2J\nby CA' },
    { id: sha256(ders[1] as Uint8Array), status: 'valid' },
    { id: new Uint8Array(32).fill(7), status: 'expired', reason: 'not here' },
  ]);
  assert.equal(recorded('pc'), undefined, 'no peer name yet, nothing written');
  receiver.peerIs('pc');
  const r = recorded('pc');
  assert.equal(r?.peer, 'pc');
  assert.equal(r?.at, 1_000);
  assert.equal(r?.checked, 2);
  assert.equal(r?.notHeld, 1, 'an id this store does not hold is counted, not listed');
  assert.deepEqual(r?.counts, { revoked: 1, valid: 1 });
  assert.equal(r?.notValid.length, 1);
  assert.equal(r?.notValid[0]?.reason, 'keyCompromise?[2J?by CA', 'control characters replaced');
  const lines = receivedValidityLines(r as ReceivedValidity);
  assert.equal(lines[0], 'checked by pc: 2 certificates, 1 revoked, 1 valid; 1 not held here');
  assert.match(lines[1] ?? '', new RegExp(`^  ${toHex(sha256(bad)).slice(0, 16)}  revoked`));
  for (const line of lines) {
    assert.ok(![...line].some((c) => (c.codePointAt(0) as number) < 0x20), line);
  }
});

test('a report of many verdicts keeps the counts whole, lists at most MAX_LISTED, cuts reasons', () => {
  const receiver = new ValidityReceiver(store);
  receiver.peerIs('laptop');
  const long = 'x'.repeat(MAX_REASON * 3);
  const results: ValidityResult[] = ders.map((d) => ({
    id: sha256(d),
    status: 'untrusted',
    reason: long,
  }));
  // The session hands over one report per message; the record adds them up.
  receiver.onReport(results.slice(0, 100));
  receiver.onReport(results.slice(100));
  const r = recorded('laptop') as ReceivedValidity;
  assert.equal(r.checked, ders.length);
  assert.deepEqual(r.counts, { untrusted: ders.length });
  assert.equal(r.notValid.length, MAX_LISTED);
  assert.ok(r.notValid.every((v) => [...v.reason].length === MAX_REASON));
  const lines = receivedValidityLines(r);
  assert.equal(lines[lines.length - 1], `  and ${ders.length - MAX_LISTED} more not valid`);
  // Another peer's report is kept apart; this peer's next one replaces its own.
  assert.equal(recorded('pc')?.peer, 'pc');
  const next = new ValidityReceiver(store);
  next.peerIs('laptop');
  next.onReport([{ id: sha256(ders[2] as Uint8Array), status: 'valid' }]);
  assert.equal(recorded('laptop')?.checked, 1);
});

test('a report changes nothing in the store but its record', () => {
  const before = store.certificates.list('store').map((c) => c.fingerprintHex);
  const receiver = new ValidityReceiver(store);
  receiver.peerIs('pc');
  receiver.onReport(ders.map((d) => ({ id: sha256(d), status: 'revoked' as const })));
  assert.deepEqual(
    store.certificates.list('store').map((c) => c.fingerprintHex),
    before,
  );
});
