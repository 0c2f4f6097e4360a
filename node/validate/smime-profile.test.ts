import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ChainLab, LEAF_EXT, type LabCert } from './testing/chain-lab.ts';
import { validate } from './index.ts';

describe('S/MIME profile, e-mail matching and name constraints', () => {
  let lab: ChainLab;
  let root: LabCert;

  before(async () => {
    lab = await ChainLab.create();
    root = await lab.root('Root');
  });
  after(() => lab.cleanup());

  it('matches the address against rfc822 names: host case-insensitive, local part exact', async () => {
    const leaf = await lab.leaf('Mail', root, { email: 'Alice@Example.org' });
    const r = await validate(leaf.der, { anchors: [root.der], email: 'Alice@example.ORG' });
    assert.equal(r.code, 'valid', r.reason);
    assert.deepEqual(r.email, {
      requested: 'Alice@example.ORG',
      matched: 'Alice@Example.org',
      source: 'rfc822Name',
      addresses: ['Alice@Example.org'],
    });
    const other = await validate(leaf.der, { anchors: [root.der], email: 'alice@example.org' });
    assert.equal(other.code, 'email-mismatch');
    assert.match(other.reason, /names Alice@Example.org, not alice@example.org/);
  });

  it('falls back to the subject emailAddress only when there is no rfc822 name', async () => {
    const legacy = await lab.leaf('Legacy', root, {
      subject: '/O=certsync lab/CN=Legacy/emailAddress=old@example.org',
    });
    const r = await validate(legacy.der, { anchors: [root.der], email: 'old@example.org' });
    assert.equal(r.code, 'valid', r.reason);
    assert.equal(r.email?.source, 'emailAddress');
    const both = await lab.leaf('Both', root, {
      subject: '/O=certsync lab/CN=Both/emailAddress=subject@example.org',
      email: 'san@example.org',
    });
    const mismatch = await validate(both.der, {
      anchors: [root.der],
      email: 'subject@example.org',
    });
    assert.equal(mismatch.code, 'email-mismatch');
    assert.deepEqual(mismatch.email?.addresses, ['san@example.org', 'subject@example.org']);
  });

  it('requires emailProtection when an extended key usage is present, and allows none', async () => {
    const server = await lab.leaf('Server Only', root, {
      ext: ['basicConstraints = critical, CA:false', 'extendedKeyUsage = serverAuth'],
    });
    const r = await validate(server.der, { anchors: [root.der] });
    assert.equal(r.code, 'wrong-usage');
    assert.match(r.reason, /emailProtection/);
    assert.equal(
      (await validate(server.der, { anchors: [root.der], profile: 'pkix' })).code,
      'valid',
    );
    const noEku = await lab.leaf('No EKU', root, {
      ext: ['keyUsage = critical, digitalSignature'],
    });
    assert.equal((await validate(noEku.der, { anchors: [root.der] })).code, 'valid');
    const anyEku = await lab.leaf('Any EKU', root, {
      ext: ['extendedKeyUsage = anyExtendedKeyUsage'],
    });
    assert.equal((await validate(anyEku.der, { anchors: [root.der] })).code, 'valid');
  });

  it('refuses a key usage that allows neither signing nor encryption, and a CA as the target', async () => {
    const crlOnly = await lab.leaf('CRL Signer', root, { ext: ['keyUsage = critical, cRLSign'] });
    const r = await validate(crlOnly.der, { anchors: [root.der] });
    assert.equal(r.code, 'wrong-usage');
    assert.match(r.reason, /neither signing nor encryption/);
    const ca = await lab.intermediate('A CA', root);
    const asLeaf = await validate(ca.der, { anchors: [root.der] });
    assert.equal(asLeaf.code, 'wrong-usage');
    assert.match(asLeaf.reason, /CA certificate/);
  });

  it("applies the trust anchor's name constraints", async () => {
    const constrained = await lab.root('Constrained Root', {
      extra: ['nameConstraints = critical, permitted;email:example.org'],
    });
    const inside = await lab.leaf('Inside', constrained, { email: 'in@example.org' });
    assert.equal((await validate(inside.der, { anchors: [constrained.der] })).code, 'valid');
    const outside = await lab.leaf('Outside', constrained, { email: 'out@evil.example' });
    const r = await validate(outside.der, { anchors: [constrained.der] });
    assert.equal(r.code, 'constraint-violated');
    assert.match(r.reason, /out@evil\.example" is outside the permitted subtrees/);
    const legacy = await lab.leaf('Legacy Outside', constrained, {
      subject: '/O=certsync lab/CN=Legacy Outside/emailAddress=x@evil.example',
    });
    assert.equal(
      (await validate(legacy.der, { anchors: [constrained.der] })).code,
      'constraint-violated',
    );
  });

  it("applies an intermediate's excluded subtrees and directory-name constraints", async () => {
    const excluding = await lab.intermediate('Excluding', root, {
      extra: ['nameConstraints = critical, excluded;email:.blocked.example'],
    });
    const blocked = await lab.leaf('Blocked', excluding, { email: 'x@mail.blocked.example' });
    const r = await validate(blocked.der, { anchors: [root.der], intermediates: [excluding.der] });
    assert.equal(r.code, 'constraint-violated');
    assert.match(r.reason, /excluded subtree/);
    const fine = await lab.leaf('Fine', excluding, { email: 'x@blocked.example' });
    assert.equal(
      (await validate(fine.der, { anchors: [root.der], intermediates: [excluding.der] })).code,
      'valid',
    );

    const dirCa = await lab.intermediate('Dir CA', root, {
      extra: [
        'nameConstraints = critical, permitted;dirName:dir_sect',
        '[ dir_sect ]',
        'O = certsync lab',
      ],
    });
    const inDir = await lab.leaf('In Dir', dirCa);
    assert.equal(
      (await validate(inDir.der, { anchors: [root.der], intermediates: [dirCa.der] })).code,
      'valid',
    );
    const outDir = await lab.leaf('Out Dir', dirCa, { subject: '/O=someone else/CN=Out Dir' });
    const d = await validate(outDir.der, { anchors: [root.der], intermediates: [dirCa.der] });
    assert.equal(d.code, 'constraint-violated');
    assert.match(d.reason, /directory name/);
  });

  it('applies URI, DNS and IP address constraints by their own rules', async () => {
    const ca = await lab.intermediate('Mixed NC', root, {
      extra: [
        'nameConstraints = critical, permitted;URI:host.example, permitted;IP:192.168.0.0/255.255.0.0, excluded;DNS:bad.example',
      ],
    });
    const check = async (name: string, san: string): Promise<string> => {
      const leaf = await lab.leaf(name, ca, { extra: [`subjectAltName = ${san}`] });
      return (await validate(leaf.der, { anchors: [root.der], intermediates: [ca.der] })).code;
    };
    assert.equal(await check('URI Host', 'URI:http://host.example/path'), 'valid');
    // Without a leading period a URI constraint names one host, not its subdomains.
    assert.equal(await check('URI Sub', 'URI:http://sub.host.example/'), 'constraint-violated');
    assert.equal(await check('IP In', 'IP:192.168.4.5'), 'valid');
    assert.equal(await check('IP Out', 'IP:10.0.0.1'), 'constraint-violated');
    assert.equal(await check('DNS Excluded', 'DNS:mail.bad.example'), 'constraint-violated');
    assert.equal(await check('DNS Fine', 'DNS:good.example'), 'valid');
  });

  it('reports every address of a certificate even when none was asked for', async () => {
    const leaf = await lab.leaf('Many', root, {
      ext: [...LEAF_EXT, 'subjectAltName = email:a@example.org, email:b@example.org'],
    });
    const r = await validate(leaf.der, { anchors: [root.der] });
    assert.deepEqual(r.email, { addresses: ['a@example.org', 'b@example.org'] });
  });
});
