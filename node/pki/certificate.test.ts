import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isCertsyncError } from '../../protocol/errors.ts';
import { ASN1_TRAP_MESSAGE, ASN1_TRAPS } from '../testing/asn1-traps.ts';
import { buildStandardPki, type StandardPki } from '../testing/openssl-pki.ts';
import { MAX_CERTIFICATE_BYTES, parseCertificate, sha256, toHex } from './certificate.ts';

let pki: StandardPki;

before(async () => {
  pki = await buildStandardPki();
});
after(() => pki.cleanup());

function badCertificate(what: string): (e: unknown) => boolean {
  return (e) => isCertsyncError(e) && e.code === 'bad-certificate' && e.message.startsWith(what);
}

describe('parseCertificate', () => {
  it('reads the fields of an EC leaf with its e-mail in subject and SAN', () => {
    const c = parseCertificate(pki.alice.der);
    assert.equal(c.subject, 'O=certsync tests, CN=Alice Example, emailAddress=alice@example.org');
    assert.equal(c.issuer, 'O=certsync tests, CN=certsync Test Intermediate');
    assert.equal(c.commonName, 'Alice Example');
    assert.deepEqual(c.emails, ['alice@example.org']);
    assert.equal(c.serialHex, pki.alice.serialHex);
    assert.equal(c.keyAlgorithm, 'EC');
    assert.equal(c.curve, 'P-256');
    assert.equal(c.keySize, 256);
    assert.equal(c.isCA, false);
    assert.equal(c.fingerprintHex, toHex(sha256(pki.alice.der)));
    assert.equal(c.der, pki.alice.der);
    assert.deepEqual(c.issuerDer, parseCertificate(pki.intermediate.der).subjectDer);
  });

  it('reads an RSA key size, SAN-only addresses, CA flags and validity dates', () => {
    const bob = parseCertificate(pki.bob.der);
    assert.equal(bob.keyAlgorithm, 'RSA');
    assert.equal(bob.keySize, 2048);
    assert.deepEqual(bob.emails, ['bob@example.org', 'robert@example.net']);
    assert.equal(parseCertificate(pki.root.der).isCA, true);
    assert.equal(parseCertificate(pki.intermediate.der).isCA, true);
    const carol = parseCertificate(pki.carol.der);
    assert.ok(carol.notAfter.getTime() < Date.now());
    assert.ok(carol.notBefore < carol.notAfter);
  });

  it('reads an Ed25519 key', async () => {
    const ed = await pki.pki.leaf('Erin Example', pki.intermediate, {
      keyType: 'ed25519',
      email: 'Erin@Example.org',
    });
    const c = parseCertificate(ed.der);
    assert.equal(c.keyAlgorithm, 'Ed25519');
    assert.deepEqual(c.emails, ['erin@example.org']);
  });

  it('refuses garbage, truncated DER, trailing bytes and empty input, naming the item', () => {
    const der = pki.alice.der;
    assert.throws(
      () => parseCertificate(new TextEncoder().encode('hello'), 'x.der'),
      badCertificate('x.der'),
    );
    assert.throws(
      () => parseCertificate(der.subarray(0, der.length - 10), 'cut.der'),
      badCertificate('cut.der'),
    );
    const trailing = new Uint8Array([...der, 0, 0]);
    assert.throws(
      () => parseCertificate(trailing, 'tail.der'),
      badCertificate('tail.der: 2 bytes after'),
    );
    assert.throws(() => parseCertificate(new Uint8Array(0), 'empty'), badCertificate('empty'));
  });

  it('refuses a certificate whose outer length is one short, which asn1js alone would read', () => {
    const der = pki.alice.der.slice();
    assert.equal(der[1], 0x82, 'a two-byte length follows the outer SEQUENCE tag');
    der[3] = ((der[3] as number) - 1) & 0xff;
    assert.throws(() => parseCertificate(der, 'short.der'), badCertificate('short.der: a length'));
  });

  it('refuses string and time values asn1js throws on with its own error, naming the item', () => {
    for (const trap of ASN1_TRAPS) {
      assert.throws(
        () => parseCertificate(trap.der, 'trap.der'),
        badCertificate(`trap.der: ${ASN1_TRAP_MESSAGE}`),
        trap.name,
      );
    }
  });

  it('refuses well-formed DER that is not a certificate, and oversized input', () => {
    assert.throws(() => parseCertificate(pki.crl.bytes, 'crl.der'), badCertificate('crl.der'));
    const huge = new Uint8Array(MAX_CERTIFICATE_BYTES + 1);
    assert.throws(() => parseCertificate(huge, 'huge'), badCertificate('huge'));
  });
});
