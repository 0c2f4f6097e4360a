import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { writeFile } from 'node:fs/promises';
import { ChainLab, type LabCert } from './chain-lab.ts';
import { fastIssuer, leafKeys, signLeaf } from './fast-leaves.ts';
import { validate } from '../index.ts';

describe('fast leaves for the store benchmark', () => {
  let lab: ChainLab;
  let ca: LabCert;
  before(async () => {
    lab = await ChainLab.create();
    ca = await lab.root('Fast CA');
  });
  after(() => lab.cleanup());

  it('are real certificates: openssl verifies them and the validator accepts them', async () => {
    const [spki] = leafKeys(1);
    const now = Date.now();
    const leaf = signLeaf(
      await fastIssuer(ca),
      spki as Uint8Array,
      'fast@example.org',
      new Date(now - 1000_000),
      new Date(now + 1000_000_000),
    );
    const path = lab.path('fast.der');
    await writeFile(path, leaf.der);
    const pem = lab.path('fast.pem');
    await lab.openssl(['x509', '-inform', 'DER', '-in', path, '-out', pem]);
    const out = String(
      await lab.openssl(['verify', '-CAfile', ca.certPath, '-purpose', 'smimesign', pem]),
    );
    assert.match(out, /OK/);
    const r = await validate(leaf.der, { anchors: [ca.der], email: 'fast@example.org' });
    assert.equal(r.code, 'valid', r.reason);
  });
});
