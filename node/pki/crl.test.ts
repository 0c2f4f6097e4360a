import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isCertsyncError } from '../../protocol/errors.ts';
import { ASN1_TRAP_MESSAGE, ASN1_TRAPS } from '../testing/asn1-traps.ts';
import { buildStandardPki, type StandardPki } from '../testing/openssl-pki.ts';
import { parseCertificate } from './certificate.ts';
import { parseCrl } from './crl.ts';

let pki: StandardPki;

before(async () => {
  pki = await buildStandardPki();
});
after(() => pki.cleanup());

describe('parseCrl', () => {
  it('reads issuer, update times and the revoked serials', () => {
    const crl = parseCrl(pki.crl.bytes);
    assert.equal(crl.issuer, 'O=certsync tests, CN=certsync Test Intermediate');
    assert.deepEqual(crl.issuerDer, parseCertificate(pki.intermediate.der).subjectDer);
    assert.deepEqual(
      crl.revoked.map((r) => r.serialHex),
      [pki.dave.serialHex],
    );
    assert.ok(crl.nextUpdate && crl.nextUpdate > crl.thisUpdate);
    assert.equal(crl.der, pki.crl.bytes);
  });

  it('refuses a certificate, truncated bytes and garbage, naming the item', () => {
    const isBad = (what: string) => (e: unknown) =>
      isCertsyncError(e) && e.code === 'bad-crl' && e.message.startsWith(what);
    assert.throws(() => parseCrl(pki.alice.der, 'a.crl'), isBad('a.crl'));
    assert.throws(() => parseCrl(pki.crl.bytes.subarray(0, 40), 'cut.crl'), isBad('cut.crl'));
    assert.throws(() => parseCrl(Uint8Array.of(1, 2, 3), 'junk.crl'), isBad('junk.crl'));
    for (const trap of ASN1_TRAPS) {
      const what = `junk.crl: ${ASN1_TRAP_MESSAGE}`;
      assert.throws(() => parseCrl(trap.der, 'junk.crl'), isBad(what), trap.name);
    }
  });
});
