/**
 * Path building (RFC 4158) from a target certificate up to a trust anchor, depth first,
 * backtracking when a branch dead-ends. Every step is bounded: the path length, the issuer
 * candidates looked at, and the signatures verified (through {@link WorkBudget}), so a mesh
 * of cross-signed certificates built to explode the search ends with a clear result.
 *
 * A candidate is taken only if its subject names the current certificate's issuer, its
 * subject key identifier does not contradict the authority key identifier, it is not
 * already on the path (by certificate, or by subject name and key together, which is what
 * catches loops of cross-certificates, RFC 4158 5.2), and its key verifies the signature.
 * Paths come out one at a time; the caller checks each against the rules and asks for the
 * next only if it failed.
 */
import type { CertificateFacts } from '../pki/extensions.ts';
import { certificateAsSigned, type TrustContext, type WorkBudget } from './trust-context.ts';

/** Why a branch of the search ended without reaching a trust anchor. */
export type DeadEndKind =
  'no-issuer' | 'bad-signature' | 'self-signed' | 'loop' | 'too-long' | 'key-id-mismatch';

/** A branch that ended, with the chain that led there (target first). */
export interface DeadEnd {
  readonly kind: DeadEndKind;
  readonly chain: readonly CertificateFacts[];
  readonly detail: string;
}

/**
 * Yields every path from `target` to a trust anchor (target first, anchor last) in order
 * of preference, recording each dead end in `deadEnds`.
 * @throws LimitReached (from `budget`) when the work bound is reached
 */
export function* buildPaths(
  target: CertificateFacts,
  ctx: TrustContext,
  budget: WorkBudget,
  at: number,
  deadEnds: DeadEnd[],
): Generator<CertificateFacts[]> {
  if (ctx.isAnchor(target)) {
    yield [target];
    return;
  }
  yield* extend([target], ctx, budget, at, deadEnds);
}

function* extend(
  chain: CertificateFacts[],
  ctx: TrustContext,
  budget: WorkBudget,
  at: number,
  deadEnds: DeadEnd[],
): Generator<CertificateFacts[]> {
  const current = chain[chain.length - 1] as CertificateFacts;
  const here = `"${current.subject.text}"`;
  const candidates = ctx
    .issuersOf(current, at)
    .filter((c) => c.fingerprint !== current.fingerprint);
  if (candidates.length === 0) {
    const kind = current.selfIssued ? 'self-signed' : 'no-issuer';
    const detail = current.selfIssued
      ? `"${current.subject.text}" is self-signed and not a trust anchor`
      : `no certificate for issuer "${current.issuer.text}" of "${current.subject.text}"`;
    deadEnds.push({ kind, chain, detail });
    return;
  }
  if (chain.length + 1 > budget.limits.maxPathLength) {
    deadEnds.push({
      kind: 'too-long',
      chain,
      detail: `a path through ${here} would exceed ${budget.limits.maxPathLength} certificates`,
    });
    return;
  }
  for (const candidate of candidates) {
    budget.candidate();
    const spki = ctx.spkiHash(candidate);
    if (
      chain.some(
        (x) =>
          x.fingerprint === candidate.fingerprint ||
          (x.subject.key === candidate.subject.key && ctx.spkiHash(x) === spki),
      )
    ) {
      deadEnds.push({
        kind: 'loop',
        chain,
        detail: `"${candidate.subject.text}" is already on the path (cross-certificate loop)`,
      });
      continue;
    }
    const there = `"${candidate.subject.text}"`;
    if (
      current.authorityKeyId !== undefined &&
      candidate.subjectKeyId !== undefined &&
      current.authorityKeyId !== candidate.subjectKeyId
    ) {
      deadEnds.push({
        kind: 'key-id-mismatch',
        chain,
        detail: `authority key identifier of ${here} does not match ${there}`,
      });
      continue;
    }
    if (!ctx.verify(certificateAsSigned(current), candidate, budget)) {
      deadEnds.push({
        kind: 'bad-signature',
        chain,
        detail: `signature of ${here} does not verify with the key of ${there}`,
      });
      continue;
    }
    if (ctx.isAnchor(candidate)) yield [...chain, candidate];
    else yield* extend([...chain, candidate], ctx, budget, at, deadEnds);
  }
}

const PRIORITY: Record<DeadEndKind, number> = {
  'self-signed': 5,
  'bad-signature': 4,
  'key-id-mismatch': 3,
  'too-long': 2,
  'no-issuer': 1,
  loop: 0,
};

/** The dead end most worth reporting: the longest chain, then the most telling kind. */
export function mostTelling(deadEnds: readonly DeadEnd[]): DeadEnd | undefined {
  let best: DeadEnd | undefined;
  for (const d of deadEnds) {
    if (
      !best ||
      d.chain.length > best.chain.length ||
      (d.chain.length === best.chain.length && PRIORITY[d.kind] > PRIORITY[best.kind])
    ) {
      best = d;
    }
  }
  return best;
}
