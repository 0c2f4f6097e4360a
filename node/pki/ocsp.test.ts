import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { isCertsyncError } from '../../protocol/errors.ts';
import { ChainLab, type LabCert } from '../validate/testing/chain-lab.ts';
import { readCertificate } from './extensions.ts';
import { buildOcspRequest, certIdFor, keyHash, readOcspResponse } from './ocsp.ts';

describe('OCSP requests openssl understands, and openssl responses read back', () => {
  let lab: ChainLab;
  let ca: LabCert;
  let leaf: LabCert;

  before(async () => {
    lab = await ChainLab.create();
    ca = await lab.root('OCSP CA');
    leaf = await lab.leaf('Asked About', ca);
  });
  after(() => lab.cleanup());

  it('builds a request that openssl reads, with the CertID and a nonce', async () => {
    const req = buildOcspRequest(readCertificate(leaf.der), readCertificate(ca.der));
    const path = lab.path('request.der');
    await writeFile(path, req.der);
    const text = String(await lab.openssl(['ocsp', '-reqin', path, '-req_text']));
    assert.match(text, new RegExp(`Serial Number: ${req.certId.serial}`, 'i'));
    assert.match(text, new RegExp(`Issuer Key Hash: ${req.certId.issuerKeyHash}`, 'i'));
    assert.match(text, /OCSP Nonce/);
    assert.notEqual(
      req.nonce,
      buildOcspRequest(readCertificate(leaf.der), readCertificate(ca.der)).nonce,
    );
  });

  it('reads an openssl response: status, CertID, responder and times', async () => {
    const facts = readOcspResponse(await lab.ocspResponse(ca, leaf));
    const c = readCertificate(leaf.der);
    const issuer = readCertificate(ca.der);
    assert.equal(facts.status, 'successful');
    const single = facts.basic?.responses[0];
    assert.deepEqual(single?.certId, certIdFor(c, issuer));
    assert.equal(single?.status, 'good');
    assert.ok(single?.nextUpdate && single.nextUpdate > single.thisUpdate);
    // openssl names its responder by name unless told -resp_key_id.
    assert.equal(facts.basic?.responderName?.key, issuer.subject.key);
    assert.equal(facts.basic?.responderKeyHash, undefined);
    assert.equal(keyHash(issuer).length, 40);
  });

  it('returns a non-successful status and refuses bytes that are not a response', () => {
    assert.deepEqual(readOcspResponse(new Uint8Array([0x30, 0x03, 0x0a, 0x01, 0x03])), {
      status: 'tryLater',
    });
    assert.throws(
      () => readOcspResponse(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00])),
      (e: unknown) => isCertsyncError(e) && /OCSP response is malformed/.test(e.message),
    );
  });
});
