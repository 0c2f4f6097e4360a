import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isCertsyncError } from '../../protocol/errors.ts';
import { ChainLab, LEAF_EXT, type LabCert } from '../validate/testing/chain-lab.ts';
import { readCertificate } from './extensions.ts';
import { readCrl } from './crl-facts.ts';

describe('reading the fields validation needs from openssl certificates and CRLs', () => {
  let lab: ChainLab;
  let root: LabCert;

  before(async () => {
    lab = await ChainLab.create();
    root = await lab.root('Root', {
      extra: ['nameConstraints = critical, permitted;email:.example.org, excluded;DNS:bad.example'],
    });
  });
  after(() => lab.cleanup());

  it('reads names, key identifiers, constraints, usages and URLs', async () => {
    const leaf = await lab.leaf('Reader', root, {
      ext: [
        ...LEAF_EXT,
        'subjectAltName = email:r@mail.example.org, DNS:host.example.org, URI:http://x.example/',
        'crlDistributionPoints = URI:http://127.0.0.1/a.crl',
        'authorityInfoAccess = OCSP;URI:http://127.0.0.1/ocsp, caIssuers;URI:http://127.0.0.1/ca',
      ],
    });
    const c = readCertificate(leaf.der);
    const r = readCertificate(root.der);
    assert.equal(c.version, 3);
    assert.equal(c.subject.text, 'O=certsync lab, CN=Reader');
    assert.equal(c.issuer.key, r.subject.key);
    assert.equal(c.authorityKeyId, r.subjectKeyId);
    assert.deepEqual(c.basicConstraints, { ca: false });
    assert.deepEqual([...(c.keyUsage ?? [])], ['digitalSignature', 'keyEncipherment']);
    assert.deepEqual(c.extKeyUsage, ['1.3.6.1.5.5.7.3.4']);
    assert.deepEqual(c.subjectAltName?.rfc822, ['r@mail.example.org']);
    assert.deepEqual(c.subjectAltName?.dns, ['host.example.org']);
    assert.deepEqual(c.crlDistributionPoints, ['http://127.0.0.1/a.crl']);
    assert.deepEqual(c.ocspUrls, ['http://127.0.0.1/ocsp']);
    assert.deepEqual(r.nameConstraints?.permitted?.rfc822, ['.example.org']);
    assert.deepEqual(r.nameConstraints?.excluded?.dns, ['bad.example']);
    assert.equal(r.selfIssued, true);
    assert.equal(c.notBefore.getUTCMilliseconds(), 0);
  });

  it('refuses a certificate whose name constraints do not decode, instead of ignoring them', async () => {
    const broken = await lab.intermediate('Broken NC', root, {
      extra: ['2.5.29.30 = critical, DER:3003a00130'],
    });
    assert.throws(
      () => readCertificate(broken.der),
      (e: unknown) =>
        isCertsyncError(e) && e.code === 'bad-certificate' && /2\.5\.29\.30/.test(e.message),
    );
  });

  it('names the problem for bytes that are not a certificate', () => {
    for (const bytes of [
      new Uint8Array(),
      new Uint8Array([0x30, 0x80, 0, 0]),
      root.der.subarray(1),
    ]) {
      assert.throws(
        () => readCertificate(bytes),
        (e: unknown) => isCertsyncError(e) && e.code === 'bad-certificate',
      );
    }
  });

  it('reads a CRL: issuer, times, revoked serials with reasons, scope', async () => {
    const leaf = await lab.leaf('Revoked One', root);
    await lab.revoke(root, leaf, 'superseded');
    const crl = readCrl(
      await lab.crl(root, {
        ext: [
          'authorityKeyIdentifier = keyid',
          'issuingDistributionPoint = critical, @idp',
          '[ idp ]',
          'onlyuser = TRUE',
        ],
      }),
    );
    const c = readCertificate(leaf.der);
    assert.equal(crl.issuer.key, c.issuer.key);
    assert.equal(crl.revoked.get(c.serial)?.reason, 'superseded');
    assert.equal(crl.scope?.onlyUserCerts, true);
    assert.equal(crl.authorityKeyId, readCertificate(root.der).subjectKeyId);
    assert.ok(crl.nextUpdate && crl.nextUpdate > crl.thisUpdate);
    assert.deepEqual(crl.unknownCritical, []);
    assert.throws(
      () => readCrl(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01])),
      (e: unknown) => isCertsyncError(e) && e.code === 'bad-crl',
    );
  });
});
