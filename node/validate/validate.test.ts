import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ChainLab, type LabCert } from './testing/chain-lab.ts';
import { checkStore, isResultCode, validate, RESULT_CODES } from './index.ts';

const DAY = 86_400_000;

describe('validate and checkStore: hostile input, caller mistakes, shared work', () => {
  let lab: ChainLab;
  let root: LabCert;
  let inter: LabCert;
  let alice: LabCert;

  before(async () => {
    lab = await ChainLab.create();
    root = await lab.root('Root');
    inter = await lab.intermediate('Inter', root);
    alice = await lab.leaf('Alice', inter, { email: 'alice@example.org' });
  });
  after(() => lab.cleanup());

  it('answers malformed targets with a malformed result naming what is wrong', async () => {
    const anchors = [root.der];
    const empty = await validate(new Uint8Array(), { anchors });
    assert.equal(empty.code, 'malformed');
    assert.match(empty.reason, /certificate is malformed/);
    const truncated = await validate(alice.der.subarray(0, 100), { anchors });
    assert.equal(truncated.code, 'malformed');
    const big = await validate(new Uint8Array(2 << 20), { anchors });
    assert.equal(big.code, 'malformed');
    assert.match(big.reason, /over 1048576 bytes/);
    const trailing = await validate(new Uint8Array([...alice.der, 0]), { anchors });
    assert.equal(trailing.code, 'malformed');
  });

  it('sets aside a malformed anchor or intermediate and uses the others', async () => {
    const r = await validate(alice.der, {
      anchors: [new Uint8Array([0x30, 0x00]), root.der],
      intermediates: [alice.der.subarray(0, 50), inter.der],
    });
    assert.equal(r.code, 'valid', r.reason);
    assert.deepEqual(
      r.notes.slice(0, 2).map((n) => n.replace(/:.*/, '')),
      ['trust anchor 1 set aside', 'intermediate 1 set aside'],
    );
  });

  it('throws TypeError or RangeError only for mistakes in the options', async () => {
    await assert.rejects(() => validate(alice.der, {} as never), TypeError);
    await assert.rejects(() => validate(alice.der, { anchors: [], at: new Date('x') }), TypeError);
    await assert.rejects(
      () => validate(alice.der, { anchors: [], profile: 'tls' as never }),
      /expected profile 'smime' or 'pkix', got tls/,
    );
    await assert.rejects(
      () => validate(alice.der, { anchors: [], limits: { maxCandidates: -1 } }),
      RangeError,
    );
    await assert.rejects(() => validate('pem' as never, { anchors: [] }), TypeError);
    await assert.rejects(() => checkStore([], { anchors: [], email: 'a@b.c' }), RangeError);
    await assert.rejects(
      () => validate(alice.der, { anchors: [root.der], crls: ['crl' as never] }),
      /expected options\.crls to be an array of Uint8Array/,
    );
  });

  it('checks a store item by item and verifies each shared issuer signature once', async () => {
    const bob = await lab.leaf('Bob', inter);
    const old = await lab.leaf('Old', inter, {
      notBefore: new Date(Date.now() - 30 * DAY),
      notAfter: new Date(Date.now() - DAY),
    });
    await lab.revoke(inter, bob);
    const crls = [await lab.crl(inter), await lab.crl(root)];
    const report = await checkStore(
      [alice.der, bob.der, new Uint8Array([1, 2, 3]), old.der, alice.der],
      {
        anchors: [root.der],
        intermediates: [inter.der],
        crls,
        revocation: 'hard-fail',
      },
    );
    assert.deepEqual(
      report.results.map((r) => r.code),
      ['valid', 'revoked', 'malformed', 'expired', 'valid'],
    );
    // First: leaf, intermediate, two CRLs. Then only what is new: Bob's own signature.
    assert.equal(report.results[0]?.work.signatureChecks, 4);
    assert.equal(report.results[1]?.work.signatureChecks, 1);
    assert.equal(report.results[4]?.work.signatureChecks, 0);
  });

  it('explains every result code', () => {
    for (const [code, text] of Object.entries(RESULT_CODES)) {
      assert.ok(isResultCode(code));
      assert.ok(text.length > 20, code);
    }
    assert.equal(isResultCode('fine'), false);
  });

  it('any single-byte corruption of a certificate gives a result, never an exception or a false valid', async () => {
    const anchors = [root.der];
    const intermediates = [inter.der];
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: alice.der.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        async (at, xor) => {
          const bytes = new Uint8Array(alice.der);
          bytes[at] = (bytes[at] as number) ^ xor;
          const r = await validate(bytes, { anchors, intermediates });
          assert.ok(isResultCode(r.code));
          assert.notEqual(r.code, 'valid', `byte ${at} ^ ${xor} still valid`);
        },
      ),
      { numRuns: 300, seed: 20261203 },
    );
  });
});
