import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ChainLab, LEAF_EXT, type LabCert } from './testing/chain-lab.ts';
import { withSerial } from './testing/der-edits.ts';
import { startRevocationServer, type RevocationServer } from './testing/revocation-server.ts';
import {
  checkStore,
  httpRevocationFetcher,
  validate,
  type RevocationFetcher,
  type ValidateOptions,
} from './index.ts';

describe('fetching revocation data from an openssl OCSP responder and CRL server on 127.0.0.1', () => {
  let lab: ChainLab;
  let server: RevocationServer;
  let root: LabCert;
  let inter: LabCert;
  let alice: LabCert;
  let bob: LabCert;
  const fetcher = httpRevocationFetcher({ allowedHosts: ['127.0.0.1'] });
  const options = (more: Partial<ValidateOptions> = {}): ValidateOptions => ({
    anchors: [root.der],
    intermediates: [inter.der],
    fetcher,
    revocation: 'hard-fail',
    ...more,
  });
  const leafWith = (name: string, extra: string[]): Promise<LabCert> =>
    lab.leaf(name, inter, { ext: [...LEAF_EXT, ...extra] });

  before(async () => {
    lab = await ChainLab.create();
    root = await lab.root('Root');
    server = await startRevocationServer(lab);
    server.publish('/root.crl', await lab.crl(root));
    // The intermediate's own revocation comes from the root's CRL, fetched by URL.
    inter = await lab.intermediate('Inter', root, {
      extra: [`crlDistributionPoints = URI:${server.base}/root.crl`],
    });
    server.answerFor(inter);
    const aia = `authorityInfoAccess = OCSP;URI:${server.base}/ocsp`;
    alice = await leafWith('Alice', [aia]);
    bob = await leafWith('Bob', [aia]);
    await lab.revoke(inter, bob);
  });
  after(async () => {
    await server.stop();
    await lab.cleanup();
  });

  it('asks the responder and gets good, revoked and unknown answers', async () => {
    const good = await validate(alice.der, options());
    assert.equal(good.code, 'valid', good.reason);
    assert.equal(good.revocation[0]?.source, 'ocsp');
    assert.equal(good.revocation[1]?.source, 'crl');
    const revoked = await validate(bob.der, options());
    assert.equal(revoked.code, 'revoked', revoked.reason);
    assert.equal(revoked.revocation[0]?.source, 'ocsp');
    // Same issuer and extensions, a serial the CA never issued: the responder does not know it.
    const stranger = await lab.resign(alice, inter, (tbs) => withSerial(tbs, [0x7e, 0x01]));
    const unknown = await validate(stranger, options());
    assert.equal(unknown.code, 'revocation-unknown');
    assert.match(unknown.reason, /does not know the certificate/);
    assert.ok((server.hits.get('/ocsp') ?? 0) >= 3);
  });

  it('refuses a replayed answer that lacks the nonce it sent', async () => {
    const recorded: Uint8Array[] = [];
    const recorder: RevocationFetcher = {
      get: (url, limits) => fetcher.get(url, limits),
      postOcsp: async (url, body, limits) => {
        const answer = await fetcher.postOcsp(url, body, limits);
        recorded.push(answer);
        return answer;
      },
    };
    assert.equal((await validate(alice.der, options({ fetcher: recorder }))).code, 'valid');
    const replay: RevocationFetcher = {
      ...recorder,
      postOcsp: async () => recorded[0] as Uint8Array,
    };
    const r = await validate(alice.der, options({ fetcher: replay }));
    assert.equal(r.code, 'revocation-unknown');
    assert.match(r.reason, /nonce/);
  });

  it('fetches a distribution point once for a whole store', async () => {
    server.publish('/inter.crl', await lab.crl(inter));
    const dp = `crlDistributionPoints = URI:${server.base}/inter.crl`;
    const carol = await leafWith('Carol', [dp]);
    const dave = await leafWith('Dave', [dp]);
    await lab.revoke(inter, dave);
    server.publish('/inter.crl', await lab.crl(inter));
    const before = server.hits.get('/inter.crl') ?? 0;
    const report = await checkStore([carol.der, dave.der, carol.der], options());
    assert.deepEqual(
      report.results.map((r) => r.code),
      ['valid', 'revoked', 'valid'],
    );
    assert.equal((server.hits.get('/inter.crl') ?? 0) - before, 1);
  });

  it('gives up on a server that stalls or floods, within the set bounds', async () => {
    const stall = await leafWith('Stalled', [`crlDistributionPoints = URI:${server.base}/stall`]);
    const r = await validate(stall.der, options({ limits: { fetchTimeoutMs: 300 } }));
    assert.equal(r.code, 'revocation-unknown');
    assert.match(r.reason, /no complete answer within 300 ms/);
    // A second certificate pointing at the same stalled host costs no second timeout.
    const stall2 = await leafWith('Stalled Too', [
      `crlDistributionPoints = URI:${server.base}/stall?2`,
    ]);
    const before = server.hits.get('/stall') ?? 0;
    const both = await checkStore(
      [stall.der, stall2.der],
      options({ limits: { fetchTimeoutMs: 300 } }),
    );
    assert.equal((server.hits.get('/stall') ?? 0) - before, 1);
    assert.match(both.results[1]?.reason ?? '', /skipped: 127\.0\.0\.1:\d+ timed out earlier/);
    const flood = await leafWith('Flooded', [`crlDistributionPoints = URI:${server.base}/huge`]);
    const f = await validate(flood.der, options({ limits: { maxCrlBytes: 1 << 20 } }));
    assert.equal(f.code, 'revocation-unknown');
    assert.match(f.reason, /over 1048576 bytes/);
  });

  it('bounds even a fetcher that ignores its signal, and refuses hosts not allowed', async () => {
    const never: RevocationFetcher = {
      get: () => new Promise<Uint8Array>(() => undefined),
      postOcsp: () => new Promise<Uint8Array>(() => undefined),
    };
    const r = await validate(
      alice.der,
      options({ fetcher: never, limits: { fetchTimeoutMs: 200 } }),
    );
    assert.equal(r.code, 'revocation-unknown');
    assert.match(r.reason, /within 200 ms/);
    const elsewhere = await leafWith('Elsewhere', [
      'authorityInfoAccess = OCSP;URI:http://192.0.2.1/ocsp',
    ]);
    const e = await validate(elsewhere.der, options());
    assert.equal(e.code, 'revocation-unknown');
    assert.match(e.reason, /host 192\.0\.2\.1 is not allowed/);
  });
});
