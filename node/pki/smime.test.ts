import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { isCertsyncError } from '../../protocol/errors.ts';
import { ASN1_TRAP_MESSAGE, ASN1_TRAPS } from '../testing/asn1-traps.ts';
import { buildStandardPki, type StandardPki } from '../testing/openssl-pki.ts';
import { looksLikeMail, readSignedMail } from './smime.ts';

let pki: StandardPki;

before(async () => {
  pki = await buildStandardPki();
});
after(() => pki.cleanup());

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');
const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const badMail = (fragment: string) => (e: unknown) =>
  isCertsyncError(e) && e.code === 'bad-mail' && e.message.includes(fragment);

describe('readSignedMail', () => {
  it('takes the certificates of a multipart/signed mail (x-pkcs7-signature)', () => {
    assert.match(text(pki.signedMail.bytes), /application\/x-pkcs7-signature/);
    assert.ok(looksLikeMail(pki.signedMail.bytes));
    const { certificates } = readSignedMail(pki.signedMail.bytes);
    assert.deepEqual(
      new Set(certificates.map((c) => Buffer.from(c).toString('hex'))),
      new Set([pki.alice.der, pki.intermediate.der].map((c) => Buffer.from(c).toString('hex'))),
    );
  });

  it('reads a Content-Type of a megabyte-long parameter in one pass, quoted values intact', () => {
    // A global regular expression over the parameters needs minutes for this header.
    const signed = text(pki.signedMail.bytes);
    // The note's quoted ; and escaped quotes must not end it early, or its boundary would win.
    const padded = signed.replace(
      /boundary="[^"]*"/,
      `$&; ${'x'.repeat(1 << 20)}; note="x; boundary=wrong \\"y\\""`,
    );
    assert.notEqual(padded, signed);
    assert.equal(readSignedMail(bytes(padded)).certificates.length, 2);
  });

  it('takes the certificates of an opaque pkcs7-mime signed-data mail', () => {
    assert.match(text(pki.opaqueMail.bytes), /application\/x-pkcs7-mime; smime-type=signed-data/);
    assert.equal(readSignedMail(pki.opaqueMail.bytes).certificates.length, 2);
  });

  it('takes the certificates of a CMS-signed mail (application/pkcs7-signature)', async () => {
    const mail = await pki.pki.signMail(pki.bob, { cms: true });
    assert.match(text(mail.bytes), /application\/pkcs7-signature/);
    assert.deepEqual(readSignedMail(mail.bytes).certificates, [pki.bob.der]);
  });

  it('finds a signed part inside multipart/mixed, as a list server sends it', () => {
    const signed = text(pki.signedMail.bytes);
    const inner = signed.slice(signed.indexOf('MIME-Version'));
    const outer = `From: list@example.org\nSubject: fwd\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="OUTER"\n\n--OUTER\n${inner}\n--OUTER\nContent-Type: text/plain\n\nfooter\n--OUTER--\n`;
    assert.equal(readSignedMail(bytes(outer), 'list.eml').certificates.length, 2);
  });

  it('refuses a mail without a signature, naming the mail and what it holds', () => {
    const plain = 'From: a@example.org\nSubject: hi\nContent-Type: text/plain\n\nhello\n';
    assert.throws(
      () => readSignedMail(bytes(plain), 'plain.eml'),
      badMail('plain.eml: no S/MIME signature (the mail holds text/plain)'),
    );
  });

  it('refuses a signature that carries no certificates', async () => {
    const path = pki.pki.path('nocerts.eml');
    const body = await pki.pki.file('b.txt', 'hi\n');
    await pki.pki.openssl([
      'smime',
      '-sign',
      '-nocerts',
      '-in',
      body.path,
      '-signer',
      pki.alice.certPath,
      '-inkey',
      pki.alice.keyPath,
      '-out',
      path,
    ]);
    const mail = new Uint8Array(await readFile(path));
    assert.throws(() => readSignedMail(mail, 'nocerts.eml'), badMail('carries no certificates'));
  });

  it('refuses a broken signature part and a multipart without boundary', () => {
    const signed = text(pki.signedMail.bytes);
    const broken = signed.replace(
      /(smime\.p7s"\r?\n\r?\n)[A-Za-z0-9+/]{20}/,
      '$1!!!!!!!!!!!!!!!!!!!!',
    );
    assert.throws(() => readSignedMail(bytes(broken), 'broken.eml'), badMail('broken.eml'));
    const noBoundary = 'From: a@b.c\nContent-Type: multipart/signed\n\nx\n';
    assert.throws(() => readSignedMail(bytes(noBoundary), 'nb.eml'), badMail('without a boundary'));
  });

  it('refuses a signature holding values asn1js throws on, naming the mail', () => {
    for (const trap of ASN1_TRAPS) {
      const signature = Buffer.from(trap.der).toString('base64');
      const mail = [
        'From: a@example.org',
        'MIME-Version: 1.0',
        'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; boundary="b"',
        '',
        '--b',
        'Content-Type: text/plain',
        '',
        'hello',
        '--b',
        'Content-Type: application/pkcs7-signature; name="smime.p7s"',
        'Content-Transfer-Encoding: base64',
        '',
        signature,
        '--b--',
        '',
      ].join('\r\n');
      assert.throws(
        () => readSignedMail(bytes(mail), 'trap.eml'),
        badMail(`trap.eml signature: ${ASN1_TRAP_MESSAGE}`),
        trap.name,
      );
    }
  });
});
