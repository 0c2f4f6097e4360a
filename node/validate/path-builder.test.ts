import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ChainLab, type LabCert } from './testing/chain-lab.ts';
import { validate } from './index.ts';

describe('path building: backtracking, loops and bounds', () => {
  let lab: ChainLab;
  let root: LabCert;

  before(async () => {
    lab = await ChainLab.create();
    root = await lab.root('Root');
  });
  after(() => lab.cleanup());

  it('stops on a cross-signing loop and says so', async () => {
    const a = await lab.root('Loop A');
    const b = await lab.root('Loop B');
    const aByB = await lab.intermediate('Loop A', b, { keyPath: a.keyPath });
    const bByA = await lab.intermediate('Loop B', a, { keyPath: b.keyPath });
    const leaf = await lab.leaf('Loop Leaf', a);
    const r = await validate(leaf.der, {
      anchors: [root.der],
      intermediates: [aByB.der, bByA.der],
    });
    assert.equal(r.code, 'broken-chain', r.reason);
    assert.match(r.reason, /already on the path/);
    assert.ok(r.work.candidates <= 4, `work ${JSON.stringify(r.work)}`);
  });

  it('backtracks out of a dead-end branch to the good path beside it', async () => {
    const orphanIssuer = await lab.root('Elsewhere');
    const good = await lab.intermediate('Shared Name', root);
    // Same subject and key, but issued by a CA that leads nowhere; listed first.
    const deadEnd = await lab.intermediate('Shared Name', orphanIssuer, { keyPath: good.keyPath });
    const leaf = await lab.leaf('Branch Leaf', good);
    const r = await validate(leaf.der, {
      anchors: [root.der],
      intermediates: [deadEnd.der, good.der],
    });
    assert.equal(r.code, 'valid', r.reason);
    assert.equal(r.path[1]?.issuer, 'O=certsync lab, CN=Root');
    assert.ok(r.work.candidates >= 3, 'the dead end was tried first');
  });

  it('takes the cross-signed way out of a loop to a trust anchor', async () => {
    const a = await lab.root('Mesh A');
    const b = await lab.root('Mesh B');
    const aByB = await lab.intermediate('Mesh A', b, { keyPath: a.keyPath });
    const bByA = await lab.intermediate('Mesh B', a, { keyPath: b.keyPath });
    const bByRoot = await lab.intermediate('Mesh B', root, { keyPath: b.keyPath });
    const leaf = await lab.leaf('Mesh Leaf', a);
    const r = await validate(leaf.der, {
      anchors: [root.der],
      intermediates: [aByB.der, bByA.der, bByRoot.der],
    });
    assert.equal(r.code, 'valid', r.reason);
    assert.deepEqual(
      r.path.map((p) => p.subject.replace('O=certsync lab, CN=', '')),
      ['Mesh Leaf', 'Mesh A', 'Mesh B', 'Root'],
    );
  });

  it('reports an untrusted root and a missing issuer differently', async () => {
    const stranger = await lab.root('Stranger Root');
    const leaf = await lab.leaf('Stranger Leaf', stranger);
    const untrusted = await validate(leaf.der, {
      anchors: [root.der],
      intermediates: [stranger.der],
    });
    assert.equal(untrusted.code, 'untrusted-root', untrusted.reason);
    assert.equal(untrusted.path.length, 2);
    const missing = await validate(leaf.der, { anchors: [root.der] });
    assert.equal(missing.code, 'broken-chain');
    assert.match(missing.reason, /no certificate for issuer/);
  });

  it('refuses an issuer of the right name whose key did not sign', async () => {
    const real = await lab.intermediate('Impostor Target', root);
    const leaf = await lab.leaf('Impostor Leaf', real);
    // openssl 3 adds a subject key identifier unless told not to; without one, only the
    // signature can tell the impostor apart.
    const impostor = await lab.intermediate('Impostor Target', root, {
      ext: [
        'basicConstraints = critical, CA:true',
        'keyUsage = critical, keyCertSign',
        'subjectKeyIdentifier = none',
      ],
    });
    const r = await validate(leaf.der, { anchors: [root.der], intermediates: [impostor.der] });
    assert.equal(r.code, 'broken-chain');
    assert.match(r.reason, /does not verify/);
  });

  it('ends a mesh of cross-signed CAs built to explode the search with limit-exceeded', async () => {
    const names = ['N1', 'N2', 'N3', 'N4', 'N5', 'N6'];
    const cas = await Promise.all(names.map((n) => lab.root(`Explode ${n}`)));
    const crosses: Uint8Array[] = [];
    for (const subject of cas) {
      for (const issuer of cas) {
        if (subject === issuer) continue;
        crosses.push(
          (await lab.intermediate(subject.name, issuer, { keyPath: subject.keyPath })).der,
        );
      }
    }
    const leaf = await lab.leaf('Explode Leaf', cas[0] as LabCert);
    const r = await validate(leaf.der, {
      anchors: [root.der],
      intermediates: crosses,
      limits: { maxCandidates: 100 },
    });
    assert.equal(r.code, 'limit-exceeded', r.reason);
    assert.match(r.reason, /100 issuer candidates/);
    assert.ok(r.work.candidates <= 101);
    const wider = await validate(leaf.der, {
      anchors: [root.der],
      intermediates: crosses,
      limits: { maxCandidates: 100_000, maxSignatureChecks: 20 },
    });
    assert.equal(wider.code, 'limit-exceeded', wider.reason);
    assert.match(wider.reason, /20 signature checks/);
  });

  it('bounds the path length', async () => {
    let issuer = root;
    const chain: Uint8Array[] = [];
    for (let i = 1; i <= 8; i++) {
      issuer = await lab.intermediate(`Level ${i}`, issuer);
      chain.push(issuer.der);
    }
    const leaf = await lab.leaf('Deep Leaf', issuer);
    const r = await validate(leaf.der, { anchors: [root.der], intermediates: chain });
    assert.equal(r.code, 'limit-exceeded', r.reason);
    assert.match(r.reason, /exceed 8 certificates/);
    const ok = await validate(leaf.der, {
      anchors: [root.der],
      intermediates: chain,
      limits: { maxPathLength: 10 },
    });
    assert.equal(ok.code, 'valid', ok.reason);
    assert.equal(ok.path.length, 10);
  });

  it('accepts a target that is itself a trust anchor', async () => {
    const self = await lab.root('Self Trusted', {
      ext: ['basicConstraints = critical, CA:false', 'keyUsage = critical, digitalSignature'],
    });
    const r = await validate(self.der, { anchors: [self.der] });
    assert.equal(r.code, 'valid', r.reason);
    assert.equal(r.path.length, 1);
    assert.equal(r.path[0]?.anchor, true);
  });
});
