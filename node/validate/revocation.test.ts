import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ChainLab, LEAF_EXT, serialHexOf, type LabCert } from './testing/chain-lab.ts';
import { validate, type ValidateOptions } from './index.ts';

const DAY = 86_400_000;

describe('revocation from CRLs and OCSP responses made by openssl', () => {
  let lab: ChainLab;
  let root: LabCert;
  let inter: LabCert;
  let rogue: LabCert;
  let alice: LabCert;
  let bob: LabCert;
  let rootCrl: Uint8Array;
  const base = (more: Partial<ValidateOptions> = {}): ValidateOptions => ({
    anchors: [root.der],
    intermediates: [inter.der],
    ...more,
    crls: [rootCrl, ...(more.crls ?? [])],
  });

  before(async () => {
    lab = await ChainLab.create();
    root = await lab.root('Root');
    inter = await lab.intermediate('Inter', root);
    // Same name as the real intermediate, its own key: what a forger would use.
    rogue = await lab.root('Inter');
    alice = await lab.leaf('Alice', inter, { email: 'alice@example.org' });
    bob = await lab.leaf('Bob', inter, { email: 'bob@example.org' });
    await lab.revoke(inter, bob);
    rootCrl = await lab.crl(root);
  });
  after(() => lab.cleanup());

  it('finds a revoked certificate in a fresh CRL and clears a good one', async () => {
    const crl = await lab.crl(inter);
    const revoked = await validate(bob.der, base({ crls: [crl] }));
    assert.equal(revoked.code, 'revoked');
    assert.match(revoked.reason, /Bob" was revoked at .* \(keyCompromise\)/);
    assert.equal(revoked.revocation[0]?.source, 'crl');
    const good = await validate(alice.der, base({ crls: [crl], revocation: 'hard-fail' }));
    assert.equal(good.code, 'valid', good.reason);
    assert.deepEqual(
      good.revocation.map((c) => c.status),
      ['good', 'good'],
    );
  });

  it('does not call a stale CRL good, but still believes its revocations', async () => {
    const stale = await lab.crl(inter, {
      thisUpdate: new Date(Date.now() - 10 * DAY),
      nextUpdate: new Date(Date.now() - 3 * DAY),
    });
    const hard = await validate(alice.der, base({ crls: [stale], revocation: 'hard-fail' }));
    assert.equal(hard.code, 'revocation-unknown');
    assert.match(hard.reason, /stale/);
    const soft = await validate(alice.der, base({ crls: [stale] }));
    assert.equal(soft.code, 'valid');
    assert.equal(soft.revocation[0]?.status, 'unknown');
    assert.match(soft.notes.join(' '), /accepted under soft-fail/);
    const staleRevoked = await validate(bob.der, base({ crls: [stale] }));
    assert.equal(staleRevoked.code, 'revoked');
  });

  it('refuses a forged CRL even under soft-fail, and it cannot hide a real revocation', async () => {
    const forged = await lab.crl(rogue);
    const r = await validate(alice.der, base({ crls: [forged] }));
    assert.equal(r.code, 'revocation-unknown');
    assert.match(r.reason, /signature does not verify/);
    const real = await lab.crl(inter);
    const both = await validate(bob.der, base({ crls: [forged, real] }));
    assert.equal(both.code, 'revoked');
  });

  it('uses a CRL only within the scope of its issuing distribution point', async () => {
    const caOnly = await lab.crl(inter, {
      ext: ['issuingDistributionPoint = critical, @idp', '[ idp ]', 'onlyCA = TRUE'],
    });
    const r = await validate(alice.der, base({ crls: [caOnly], revocation: 'hard-fail' }));
    assert.equal(r.code, 'revocation-unknown');
    assert.match(r.reason, /CA certificates only/);
  });

  it('does not use a delta CRL, a CRL with an unknown critical extension, or one its issuer may not sign', async () => {
    const hardFail = async (
      crl: Uint8Array,
      leaf = alice,
      anchors = [root.der],
      via = [inter.der],
    ) =>
      validate(leaf.der, {
        anchors,
        intermediates: via,
        crls: [crl, rootCrl],
        revocation: 'hard-fail',
      });
    const delta = await lab.crl(inter, { ext: ['2.5.29.27 = critical, DER:020101'] });
    assert.match((await hardFail(delta)).reason, /it is a delta CRL/);
    const unknown = await lab.crl(inter, { ext: ['1.3.6.1.4.1.99999.7 = critical, ASN1:NULL'] });
    assert.match((await hardFail(unknown)).reason, /critical 1\.3\.6\.1\.4\.1\.99999\.7/);
    const noCrlSign = await lab.intermediate('No CRL Sign', root, {
      ext: ['basicConstraints = critical, CA:true', 'keyUsage = critical, keyCertSign'],
    });
    const leaf = await lab.leaf('Under No CRL Sign', noCrlSign);
    const r = await hardFail(await lab.crl(noCrlSign), leaf, [root.der], [noCrlSign.der]);
    assert.equal(r.code, 'revocation-unknown');
    assert.match(r.reason, /does not allow cRLSign/);
  });

  it('refuses an OCSP responder certified by another CA', async () => {
    const otherResponder = await lab.leaf('Foreign Responder', root, {
      ext: ['keyUsage = critical, digitalSignature', 'extendedKeyUsage = OCSPSigning'],
    });
    const response = await lab.ocspResponse(inter, bob, {
      signer: otherResponder,
      claimGood: true,
    });
    const r = await validate(bob.der, base({ ocspResponses: [response] }));
    assert.equal(r.code, 'revocation-unknown');
    assert.match(r.reason, /responder certificate is from another issuer/);
  });

  it('checks intermediates too, and backtracks to a renewed intermediate', async () => {
    const old = await lab.intermediate('Renewed', root);
    const renewed = await lab.intermediate('Renewed', root, { keyPath: old.keyPath });
    const leaf = await lab.leaf('Under Renewed', old);
    await lab.revoke(root, old);
    const crl = await lab.crl(root);
    const onlyOld = await validate(leaf.der, {
      anchors: [root.der],
      intermediates: [old.der],
      crls: [crl],
    });
    assert.equal(onlyOld.code, 'revoked');
    assert.equal(onlyOld.failedAt, 1);
    const r = await validate(leaf.der, {
      anchors: [root.der],
      intermediates: [old.der, renewed.der],
      crls: [crl, await lab.crl(old)],
      revocation: 'hard-fail',
    });
    assert.equal(r.code, 'valid', r.reason);
    assert.equal(r.path[1]?.serial, serialHexOf(renewed.der));
    assert.equal(r.work.paths, 2);
  });

  it('believes an OCSP answer signed by the issuer: good and revoked', async () => {
    const good = await validate(
      alice.der,
      base({ ocspResponses: [await lab.ocspResponse(inter, alice)], revocation: 'hard-fail' }),
    );
    assert.equal(good.code, 'valid', good.reason);
    assert.equal(good.revocation[0]?.source, 'ocsp');
    const revoked = await validate(
      bob.der,
      base({ ocspResponses: [await lab.ocspResponse(inter, bob)] }),
    );
    assert.equal(revoked.code, 'revoked');
    assert.equal(revoked.revocation[0]?.source, 'ocsp');
  });

  it('refuses a forged OCSP "good" for a revoked certificate', async () => {
    const forged = await lab.ocspResponse(inter, bob, { signer: rogue, claimGood: true });
    const alone = await validate(bob.der, base({ ocspResponses: [forged] }));
    assert.equal(alone.code, 'revocation-unknown', alone.reason);
    assert.match(alone.reason, /signature does not verify/);
    const withCrl = await validate(
      bob.der,
      base({ ocspResponses: [forged], crls: [await lab.crl(inter)] }),
    );
    assert.equal(withCrl.code, 'revoked');
  });

  it('accepts a responder the issuer authorised, and refuses one it did not', async () => {
    const responder = await lab.leaf('Responder', inter, {
      ext: ['keyUsage = critical, digitalSignature', 'extendedKeyUsage = OCSPSigning'],
    });
    const delegated = await lab.ocspResponse(inter, alice, { signer: responder });
    const ok = await validate(
      alice.der,
      base({ ocspResponses: [delegated], revocation: 'hard-fail' }),
    );
    assert.equal(ok.code, 'valid', ok.reason);
    const plain = await lab.leaf('Not A Responder', inter, { ext: LEAF_EXT });
    const unauthorised = await lab.ocspResponse(inter, bob, { signer: plain, claimGood: true });
    const r = await validate(bob.der, base({ ocspResponses: [unauthorised] }));
    assert.equal(r.code, 'revocation-unknown');
    assert.match(r.reason, /OCSPSigning/);
  });

  it('does not call a stale OCSP answer good, and ignores one about another certificate', async () => {
    const response = await lab.ocspResponse(inter, alice, { ndays: 1 });
    const later = new Date(Date.now() + 3 * DAY);
    const stale = await validate(
      alice.der,
      base({ ocspResponses: [response], at: later, revocation: 'hard-fail', crls: [] }),
    );
    assert.equal(stale.code, 'revocation-unknown');
    assert.match(stale.reason, /stale/);
    const other = await validate(
      bob.der,
      base({ ocspResponses: [response], revocation: 'hard-fail' }),
    );
    assert.equal(other.code, 'revocation-unknown');
    assert.match(other.reason, /no revocation data/);
  });

  it('sets aside a malformed CRL or OCSP response and uses the rest', async () => {
    const crl = await lab.crl(inter);
    const broken = crl.slice(0, crl.length - 5);
    const junk = new Uint8Array([0x30, 0x03, 0x0a, 0x01, 0x00]);
    const r = await validate(
      bob.der,
      base({ crls: [broken, crl], ocspResponses: [junk, new Uint8Array([1, 2, 3])] }),
    );
    assert.equal(r.code, 'revoked');
    assert.ok(
      r.notes.some((n) => /CRL 2 set aside: CRL is malformed/.test(n)),
      r.notes.join('\n'),
    );
    assert.ok(r.notes.some((n) => /OCSP response 2 set aside: OCSP response is malformed/.test(n)));
  });

  it('no single-byte corruption of a CRL or OCSP answer turns a revoked certificate good', async () => {
    const crl = await lab.crl(inter);
    const ocsp = await lab.ocspResponse(inter, bob);
    const corrupt = (bytes: Uint8Array, at: number, xor: number): Uint8Array => {
      const out = new Uint8Array(bytes);
      out[at % out.length] = (out[at % out.length] as number) ^ xor;
      return out;
    };
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.boolean(),
        async (at, xor, onCrl) => {
          const r = await validate(
            bob.der,
            base(
              onCrl
                ? { crls: [corrupt(crl, at, xor)] }
                : { ocspResponses: [corrupt(ocsp, at, xor)] },
            ),
          );
          assert.notEqual(r.revocation[0]?.status, 'good');
          assert.ok(r.code === 'revoked' || r.code === 'revocation-unknown' || r.code === 'valid');
          if (r.code === 'valid') assert.equal(r.revocation[0]?.status, 'unknown');
        },
      ),
      { numRuns: 200, seed: 5280 },
    );
  });
});
