import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ChainLab, CA_EXT, type LabCert } from './testing/chain-lab.ts';
import {
  asVersion1,
  asVersion1WithUniqueId,
  withFirstExtensionTwice,
  withInnerAlgorithm,
  withSerial,
  withUniqueId,
} from './testing/der-edits.ts';
import { validate, type ValidateOptions, type ValidationResult } from './index.ts';

const DAY = 86_400_000;

describe('RFC 5280 path rules, on chains built with openssl', () => {
  let lab: ChainLab;
  let root: LabCert;
  let inter: LabCert;
  const opts = (more: Partial<ValidateOptions> = {}): ValidateOptions => ({
    anchors: [root.der],
    intermediates: [inter.der],
    ...more,
  });
  const expectCode = (r: ValidationResult, code: string, reason?: RegExp): void => {
    assert.equal(r.code, code, r.reason);
    assert.equal(r.valid, code === 'valid');
    if (reason) assert.match(r.reason, reason);
  };

  before(async () => {
    lab = await ChainLab.create();
    root = await lab.root('Root');
    inter = await lab.intermediate('Inter', root);
  });
  after(() => lab.cleanup());

  it('accepts a good chain and reports the path, target first', async () => {
    const leaf = await lab.leaf('Good', inter, { email: 'good@example.org' });
    const r = await validate(leaf.der, opts());
    expectCode(r, 'valid');
    assert.deepEqual(
      r.path.map((p) => [p.subject, p.anchor]),
      [
        ['O=certsync lab, CN=Good', false],
        ['O=certsync lab, CN=Inter', false],
        ['O=certsync lab, CN=Root', true],
      ],
    );
  });

  it('compares validity in whole seconds, both ends inclusive', async () => {
    const notBefore = new Date(Date.UTC(2030, 0, 1, 0, 0, 0));
    const notAfter = new Date(Date.UTC(2030, 0, 2, 0, 0, 0));
    const leaf = await lab.leaf('Window', inter, { notBefore, notAfter });
    expectCode(await validate(leaf.der, opts({ at: new Date(notBefore.getTime()) })), 'valid');
    expectCode(await validate(leaf.der, opts({ at: new Date(notAfter.getTime() + 999) })), 'valid');
    expectCode(
      await validate(leaf.der, opts({ at: new Date(notAfter.getTime() + 1000) })),
      'expired',
    );
    expectCode(
      await validate(leaf.der, opts({ at: new Date(notBefore.getTime() - 1) })),
      'not-yet-valid',
    );
  });

  it('reports an expired intermediate at its place in the path', async () => {
    const old = await lab.intermediate('Old Inter', root, {
      notBefore: new Date(Date.now() - 30 * DAY),
      notAfter: new Date(Date.now() - DAY),
    });
    const leaf = await lab.leaf('Under Old', old);
    const r = await validate(leaf.der, { anchors: [root.der], intermediates: [old.der] });
    expectCode(r, 'expired', /Old Inter/);
    assert.equal(r.failedAt, 1);
  });

  it('refuses a non-CA certificate used as an issuer', async () => {
    const notCa = await lab.intermediate('Not A CA', root, {
      ext: ['basicConstraints = critical, CA:false', 'subjectKeyIdentifier = hash'],
    });
    const leaf = await lab.leaf('Under Non CA', notCa);
    const r = await validate(leaf.der, { anchors: [root.der], intermediates: [notCa.der] });
    expectCode(r, 'constraint-violated', /not a CA/);
  });

  it('refuses an issuer whose key usage lacks keyCertSign', async () => {
    const noSign = await lab.intermediate('No CertSign', root, {
      ext: ['basicConstraints = critical, CA:true', 'keyUsage = critical, cRLSign'],
    });
    const leaf = await lab.leaf('Under No CertSign', noSign);
    const r = await validate(leaf.der, { anchors: [root.der], intermediates: [noSign.der] });
    expectCode(r, 'constraint-violated', /keyCertSign/);
  });

  it('refuses a path longer than an intermediate allows (pathlen:0 above another CA)', async () => {
    const tight = await lab.intermediate('Tight', root, {
      ext: ['basicConstraints = critical, CA:true, pathlen:0', 'keyUsage = critical, keyCertSign'],
    });
    const below = await lab.intermediate('Below Tight', tight);
    const leaf = await lab.leaf('Too Deep', below);
    const r = await validate(leaf.der, {
      anchors: [root.der],
      intermediates: [tight.der, below.der],
    });
    expectCode(r, 'constraint-violated', /path length/);
    assert.equal(r.failedAt, 1);
    const direct = await lab.leaf('Just Right', tight);
    expectCode(
      await validate(direct.der, { anchors: [root.der], intermediates: [tight.der] }),
      'valid',
    );
  });

  it("enforces the trust anchor's own path length", async () => {
    const anchor = await lab.root('Anchor Pathlen 0', {
      ext: ['basicConstraints = critical, CA:true, pathlen:0', 'keyUsage = critical, keyCertSign'],
    });
    const mid = await lab.intermediate('Mid', anchor);
    const leaf = await lab.leaf('Below Mid', mid);
    const r = await validate(leaf.der, { anchors: [anchor.der], intermediates: [mid.der] });
    expectCode(r, 'constraint-violated', /path length/);
  });

  it('refuses an unknown critical extension, and accepts it when not critical', async () => {
    const crit = await lab.leaf('Critical Unknown', inter, {
      extra: ['1.3.6.1.4.1.99999.1 = critical, ASN1:NULL'],
    });
    expectCode(
      await validate(crit.der, opts()),
      'unknown-critical-extension',
      /1\.3\.6\.1\.4\.1\.99999\.1/,
    );
    const soft = await lab.leaf('Noncritical Unknown', inter, {
      extra: ['1.3.6.1.4.1.99999.1 = ASN1:NULL'],
    });
    expectCode(await validate(soft.der, opts()), 'valid');
    const critCa = await lab.intermediate('Critical Policy Constraints', root, {
      extra: ['policyConstraints = critical, requireExplicitPolicy:0'],
    });
    const leaf = await lab.leaf('Under Policy CA', critCa);
    const r = await validate(leaf.der, { anchors: [root.der], intermediates: [critCa.der] });
    expectCode(r, 'unknown-critical-extension');
  });

  it('refuses a repeated extension, a non-positive serial, and extensions in version 1', async () => {
    const base = await lab.leaf('Edited', inter);
    const twice = await lab.resign(base, inter, withFirstExtensionTwice);
    expectCode(await validate(twice, opts()), 'malformed', /repeats extension/);
    const negative = await lab.resign(base, inter, (tbs) => withSerial(tbs, [0xff]));
    expectCode(await validate(negative, opts()), 'malformed', /serial/);
    const zero = await lab.resign(base, inter, (tbs) => withSerial(tbs, [0x00]));
    expectCode(await validate(zero, opts()), 'malformed', /serial/);
    const long = await lab.resign(base, inter, (tbs) => withSerial(tbs, Array(21).fill(0x11)));
    expectCode(await validate(long, opts()), 'malformed', /21 octets/);
    const v1 = await lab.resign(base, inter, asVersion1);
    expectCode(await validate(v1, opts()), 'malformed', /version 1/);
    // The edits themselves keep the signature valid: the same edit with the serial intact passes.
    const same = await lab.resign(base, inter, (tbs) => tbs);
    expectCode(await validate(same, opts()), 'valid');
  });

  it('refuses unique identifiers in version 1 and an inner signature algorithm that differs', async () => {
    const base = await lab.leaf('Edited Again', inter);
    const v1 = await lab.resign(base, inter, asVersion1WithUniqueId);
    expectCode(await validate(v1, opts()), 'malformed', /unique identifiers but is version 1/);
    const v3 = await lab.resign(base, inter, withUniqueId);
    expectCode(await validate(v3, opts()), 'valid');
    // ecdsa-with-SHA384 inside, ecdsa-with-SHA256 outside (and signed with SHA-256).
    const sha384 = Uint8Array.of(
      0x30,
      0x0a,
      0x06,
      0x08,
      0x2a,
      0x86,
      0x48,
      0xce,
      0x3d,
      0x04,
      0x03,
      0x03,
    );
    const mixed = await lab.resign(base, inter, (tbs) => withInnerAlgorithm(tbs, sha384));
    expectCode(await validate(mixed, opts()), 'malformed', /two different signature algorithms/);
  });

  it('refuses weak and unsupported algorithms on the path, with the reason', async () => {
    const cases: [string, Parameters<ChainLab['leaf']>[2], RegExp][] = [
      ['SHA-1 signed', { md: 'sha1' }, /SHA-1/],
      ['MD5 signed', { md: 'md5' }, /MD5/],
      ['RSA 1024', { key: 'rsa1024' }, /RSA keys under 2048/],
      ['P-192', { key: 'p192' }, /P-192/],
      ['DSA', { key: 'dsa' }, /DSA/],
    ];
    const rsaRoot = await lab.root('RSA Root', { key: 'rsa' });
    for (const [name, options, reason] of cases) {
      const leaf = await lab.leaf(name, rsaRoot, options);
      expectCode(await validate(leaf.der, { anchors: [rsaRoot.der] }), 'weak-algorithm', reason);
    }
    const sha1Inter = await lab.intermediate('SHA-1 Inter', rsaRoot, { md: 'sha1' });
    const leaf = await lab.leaf('Below SHA-1', sha1Inter);
    const r = await validate(leaf.der, { anchors: [rsaRoot.der], intermediates: [sha1Inter.der] });
    expectCode(r, 'weak-algorithm', /SHA-1 Inter/);
    assert.equal(r.failedAt, 1);
    const weakRoot = await lab.root('Weak Root', { key: 'rsa1024' });
    const underWeak = await lab.leaf('Below Weak Root', weakRoot);
    expectCode(
      await validate(underWeak.der, { anchors: [weakRoot.der] }),
      'weak-algorithm',
      /Weak Root/,
    );
  });

  it('verifies Ed25519 signatures end to end', async () => {
    const edRoot = await lab.root('Ed Root', { key: 'ed25519' });
    const edInter = await lab.intermediate('Ed Inter', edRoot, { key: 'ed25519' });
    const edLeaf = await lab.leaf('Ed Leaf', edInter, { key: 'ed25519' });
    const r = await validate(edLeaf.der, { anchors: [edRoot.der], intermediates: [edInter.der] });
    expectCode(r, 'valid');
    assert.equal(r.work.signatureChecks, 2);
    const forged = await lab.resign(edLeaf, inter, (tbs) => tbs);
    const bad = await validate(forged, { anchors: [edRoot.der], intermediates: [edInter.der] });
    expectCode(bad, 'broken-chain', /does not verify/);
  });

  it('skips an issuer whose subject key identifier contradicts the authority key identifier', async () => {
    const keyed = await lab.intermediate('Keyed', root);
    const leaf = await lab.leaf('Keyed Leaf', keyed);
    const relabelled = await lab.intermediate('Keyed', root, {
      keyPath: keyed.keyPath,
      ext: [
        ...CA_EXT.filter((l) => !l.startsWith('subjectKeyIdentifier')),
        'subjectKeyIdentifier = 0102030405',
      ],
    });
    const r = await validate(leaf.der, { anchors: [root.der], intermediates: [relabelled.der] });
    expectCode(r, 'broken-chain', /authority key identifier/);
    expectCode(
      await validate(leaf.der, { anchors: [root.der], intermediates: [relabelled.der, keyed.der] }),
      'valid',
    );
  });
});
