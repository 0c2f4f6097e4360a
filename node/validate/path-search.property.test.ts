import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { commonName, fastCa, signCertificate, type FastCa } from './testing/fast-leaves.ts';
import { validate, type ValidationLimits } from './index.ts';

const CAS = 6;
const DAY = 86_400_000;

/** An edge "CA `subject` certified by CA `issuer`", possibly signed by the wrong key. */
interface Edge {
  readonly subject: number;
  readonly issuer: number;
  readonly forged: boolean;
}

const edges = fc.uniqueArray(
  fc
    .record({
      subject: fc.integer({ min: 0, max: CAS - 1 }),
      issuer: fc.integer({ min: 0, max: CAS - 1 }),
      forged: fc.boolean(),
    })
    .filter((e) => e.subject !== e.issuer),
  { maxLength: 24, selector: (e) => `${e.subject}/${e.issuer}` },
);

/** True when CA `from` reaches CA 0 (the anchor) through genuine certificates. */
function reachesAnchor(from: number, graph: readonly Edge[]): boolean {
  const seen = new Set([from]);
  const queue = [from];
  while (queue.length > 0) {
    const at = queue.shift() as number;
    if (at === 0) return true;
    for (const e of graph) {
      if (e.subject === at && !e.forged && !seen.has(e.issuer)) {
        seen.add(e.issuer);
        queue.push(e.issuer);
      }
    }
  }
  return false;
}

describe('path search over random cross-certification graphs', () => {
  let cas: FastCa[];
  let forger: FastCa;
  let anchor: Uint8Array;
  let leaves: Uint8Array[];
  const period = { notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + DAY) };

  before(() => {
    cas = Array.from({ length: CAS }, (_, i) => fastCa(`Graph CA ${i}`));
    forger = fastCa('Forger');
    const root = cas[0] as FastCa;
    anchor = signCertificate(root, {
      subject: root.subject,
      spki: root.spki,
      ca: true,
      ...period,
    }).der;
    leaves = cas.map(
      (ca, i) =>
        signCertificate(ca, {
          subject: commonName(`leaf ${i}`),
          spki: forger.spki,
          ca: false,
          email: `leaf${i}@example.org`,
          ...period,
        }).der,
    );
  });

  const build = (graph: readonly Edge[]): Uint8Array[] =>
    graph.map((e) => {
      const issuer = cas[e.issuer] as FastCa;
      const subject = cas[e.subject] as FastCa;
      const signer = e.forged
        ? { ...forger, subject: issuer.subject, keyId: issuer.keyId }
        : issuer;
      return signCertificate(signer, {
        subject: subject.subject,
        spki: subject.spki,
        ca: true,
        ...period,
      }).der;
    });

  it('with room to finish, a chain is valid exactly when genuine certificates lead to the anchor', async () => {
    const roomy: Partial<ValidationLimits> = {
      maxCandidates: 50_000,
      maxSignatureChecks: 1_000,
      maxPaths: 1_000,
    };
    await fc.assert(
      fc.asyncProperty(edges, fc.integer({ min: 0, max: CAS - 1 }), async (graph, target) => {
        const r = await validate(leaves[target] as Uint8Array, {
          anchors: [anchor],
          intermediates: build(graph),
          checkRevocation: false,
          limits: roomy,
        });
        assert.equal(r.code === 'valid', reachesAnchor(target, graph), `${r.code}: ${r.reason}`);
        if (r.code !== 'valid')
          assert.ok(['broken-chain', 'untrusted-root'].includes(r.code), r.code);
      }),
      { numRuns: 80, seed: 4158 },
    );
  });

  it('under any limits, work stays within them and nothing unreachable is called valid', async () => {
    await fc.assert(
      fc.asyncProperty(
        edges,
        fc.integer({ min: 0, max: CAS - 1 }),
        fc.record({
          maxCandidates: fc.integer({ min: 1, max: 40 }),
          maxSignatureChecks: fc.integer({ min: 1, max: 20 }),
          maxPathLength: fc.integer({ min: 2, max: 8 }),
        }),
        async (graph, target, limits) => {
          const r = await validate(leaves[target] as Uint8Array, {
            anchors: [anchor],
            intermediates: build(graph),
            checkRevocation: false,
            limits,
          });
          assert.ok(r.work.candidates <= limits.maxCandidates + 1);
          assert.ok(r.work.signatureChecks <= limits.maxSignatureChecks + 1);
          assert.ok(r.path.length <= limits.maxPathLength);
          if (r.code === 'valid') assert.ok(reachesAnchor(target, graph));
        },
      ),
      { numRuns: 80, seed: 5280 },
    );
  });
});
