import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { isCertsyncError } from '../../protocol/errors.ts';
import { ASN1_TRAP_MESSAGE, ASN1_TRAPS } from '../testing/asn1-traps.ts';
import { buildStandardPki, type StandardPki } from '../testing/openssl-pki.ts';
import { decodePem } from './pem.ts';
import { encodePkcs7, looksLikePkcs7, readPkcs7 } from './pkcs7.ts';

let pki: StandardPki;

before(async () => {
  pki = await buildStandardPki();
});
after(() => pki.cleanup());

describe('PKCS#7 bundles', () => {
  it('takes certificates and CRLs from an openssl bundle byte for byte', async () => {
    const bundle = await pki.pki.pkcs7([pki.alice, pki.bob, pki.root], { crls: [pki.crl] });
    assert.ok(looksLikePkcs7(bundle.bytes));
    const contents = readPkcs7(bundle.bytes);
    assert.equal(contents.certificates.length, 3);
    const ders = [pki.alice.der, pki.bob.der, pki.root.der].map((d) =>
      Buffer.from(d).toString('hex'),
    );
    for (const c of contents.certificates) assert.ok(ders.includes(Buffer.from(c).toString('hex')));
    assert.deepEqual(contents.crls, [pki.crl.bytes]);
  });

  it('reads the PEM form after unwrapping', async () => {
    const bundle = await pki.pki.pkcs7([pki.alice], { pem: true });
    const [block] = decodePem(Buffer.from(bundle.bytes).toString('latin1'));
    assert.equal(block?.label, 'PKCS7');
    assert.deepEqual(readPkcs7(block?.der ?? new Uint8Array()).certificates, [pki.alice.der]);
  });

  it('writes a bundle that openssl reads and that reads back identically', async () => {
    const der = encodePkcs7([pki.alice.der, pki.bob.der], [pki.crl.bytes]);
    const back = readPkcs7(der);
    assert.deepEqual(back.certificates, [pki.alice.der, pki.bob.der]);
    assert.deepEqual(back.crls, [pki.crl.bytes]);
    const path = pki.pki.path('ours.p7b');
    await writeFile(path, der);
    const printed = await pki.pki.openssl([
      'pkcs7',
      '-inform',
      'DER',
      '-in',
      path,
      '-print_certs',
      '-noout',
    ]);
    assert.match(printed, /CN = Alice Example/);
    assert.match(printed, /CN = Bob Example/);
  });

  it('refuses what is not SignedData, naming the item', () => {
    const bad = (e: unknown) =>
      isCertsyncError(e) && e.code === 'bad-input' && e.message.startsWith('b.p7b');
    assert.throws(() => readPkcs7(pki.alice.der, 'b.p7b'), bad);
    assert.throws(() => readPkcs7(Uint8Array.of(0x30, 0x80), 'b.p7b'), bad);
    const der = encodePkcs7([pki.alice.der]);
    assert.throws(() => readPkcs7(der.subarray(0, der.length - 5), 'b.p7b'), bad);
  });

  it('refuses string and time values asn1js throws on with its own error, naming the item', () => {
    const bad = (e: unknown) =>
      isCertsyncError(e) &&
      e.code === 'bad-input' &&
      e.message === `trap.p7b: ${ASN1_TRAP_MESSAGE}`;
    for (const trap of ASN1_TRAPS) {
      assert.equal(looksLikePkcs7(trap.der), false, trap.name);
      assert.throws(() => readPkcs7(trap.der, 'trap.p7b'), bad, trap.name);
    }
  });
});
