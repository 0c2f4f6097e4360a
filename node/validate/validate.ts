/**
 * certsync's certificate validator: {@link validate} for one certificate and
 * {@link checkStore} for a whole store. Both return results, never throw for bad input: a
 * malformed target is a `malformed` result, a malformed anchor, intermediate, CRL or OCSP
 * response is set aside with a note and the rest is used.
 *
 * Order of work for one target: checks that concern the target alone (encoding, validity,
 * usage, address) come first and end the search when they fail, since no path can mend
 * them; then paths are built one at a time and each is checked against RFC 5280 and then
 * for revocation; the first path that passes gives `valid`.
 */
import type { CertificateFacts } from '../pki/extensions.ts';
import { readCertificate } from '../pki/extensions.ts';
import { buildPaths, mostTelling, type DeadEnd } from './path-builder.ts';
import { certificateProblem, checkPath, validityProblem, wholeSeconds } from './path-rules.ts';
import {
  resolveLimits,
  type Profile,
  type RevocationFetcher,
  type RevocationPolicy,
  type ValidateOptions,
  type ValidationLimits,
} from './options.ts';
import type {
  EmailMatch,
  PathEntry,
  PathFailure,
  RevocationCheck,
  ValidationResult,
} from './result.ts';
import { checkRevocation, type RevocationOutcome } from './revocation.ts';
import { matchEmail, smimeUsageProblem } from './smime-profile.ts';
import { LimitReached, TrustContext, WorkBudget } from './trust-context.ts';

/** The options of one validation with every default filled in. */
interface Settings {
  readonly atSeconds: number;
  readonly profile: Profile;
  readonly policy: RevocationPolicy;
  readonly limits: ValidationLimits;
  readonly email?: string;
  readonly fetcher?: RevocationFetcher;
  readonly checkRevocation: boolean;
}

function settingsOf(options: ValidateOptions): Settings {
  if (!options || !Array.isArray(options.anchors)) {
    throw new TypeError(`expected options.anchors to be an array, got ${typeof options?.anchors}`);
  }
  for (const key of ['anchors', 'intermediates', 'crls', 'ocspResponses'] as const) {
    const list = options[key] ?? [];
    if (!Array.isArray(list) || !list.every((item) => item instanceof Uint8Array)) {
      throw new TypeError(
        `expected options.${key} to be an array of Uint8Array, got ${String(list)}`,
      );
    }
  }
  const at = options.at ?? new Date();
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) {
    throw new TypeError(`expected options.at to be a valid Date, got ${String(at)}`);
  }
  const profile = options.profile ?? 'smime';
  if (profile !== 'smime' && profile !== 'pkix') {
    throw new RangeError(`expected profile 'smime' or 'pkix', got ${String(profile)}`);
  }
  const policy = options.revocation ?? 'soft-fail';
  if (policy !== 'soft-fail' && policy !== 'hard-fail') {
    throw new RangeError(`expected revocation 'soft-fail' or 'hard-fail', got ${String(policy)}`);
  }
  return {
    atSeconds: wholeSeconds(at),
    profile,
    policy,
    limits: resolveLimits(options.limits),
    ...(options.email !== undefined && { email: options.email }),
    ...(options.fetcher && { fetcher: options.fetcher }),
    checkRevocation: options.checkRevocation ?? true,
  };
}

function entryOf(c: CertificateFacts, anchor: boolean): PathEntry {
  return {
    fingerprint: c.fingerprint,
    subject: c.subject.text,
    issuer: c.issuer.text,
    serial: c.serial,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    anchor,
  };
}

interface Draft {
  path: readonly CertificateFacts[];
  complete: boolean;
  failure?: PathFailure;
  revocation: RevocationCheck[];
  notes: string[];
}

async function revocationFailure(
  path: readonly CertificateFacts[],
  ctx: TrustContext,
  budget: WorkBudget,
  s: Settings,
  draft: Draft,
): Promise<PathFailure | undefined> {
  const env = {
    ctx,
    budget,
    atSeconds: s.atSeconds,
    limits: s.limits,
    ...(s.fetcher && { fetcher: s.fetcher }),
  };
  // From the anchor down, as RFC 5280 6.1 processes a path: a revoked CA makes the status of
  // everything below it moot, so it is found first.
  const checks: RevocationCheck[] = [];
  draft.revocation = checks;
  for (let i = path.length - 2; i >= 0; i--) {
    const cert = path[i] as CertificateFacts;
    const issuer = path[i + 1] as CertificateFacts;
    const outcome: RevocationOutcome = await checkRevocation(cert, issuer, env);
    const { hostile: _hostile, ...check } = outcome;
    checks.unshift(check);
    const who = `"${cert.subject.text}"`;
    if (outcome.status === 'revoked') {
      const when = outcome.revokedAt ? ` at ${outcome.revokedAt.toISOString()}` : '';
      const why = outcome.reason ? ` (${outcome.reason})` : '';
      return { code: 'revoked', reason: `${who} was revoked${when}${why}`, failedAt: i };
    }
    if (outcome.status === 'unknown' && (outcome.hostile || s.policy === 'hard-fail')) {
      const lead = outcome.hostile
        ? 'revocation data offered for'
        : 'no usable revocation data for';
      return {
        code: 'revocation-unknown',
        reason: `${lead} ${who}: ${outcome.details.join('; ')}`,
        failedAt: i,
      };
    }
    if (outcome.status === 'unknown') {
      draft.notes.push(
        `revocation of ${who} unknown, accepted under soft-fail: ${outcome.details.join('; ')}`,
      );
    }
  }
  return undefined;
}

function finish(
  draft: Draft,
  budget: WorkBudget,
  email: EmailMatch | undefined,
  notes: string[],
): ValidationResult {
  const anchorLast = draft.complete;
  const path = draft.path.map((c, i) => entryOf(c, anchorLast && i === draft.path.length - 1));
  const failure = draft.failure;
  return {
    code: failure?.code ?? 'valid',
    valid: failure === undefined,
    reason:
      failure?.reason ?? `valid: chains to trust anchor "${path[path.length - 1]?.subject ?? ''}"`,
    path,
    ...(failure && { failedAt: failure.failedAt }),
    ...(email && { email }),
    revocation: draft.revocation,
    work: { ...budget.done },
    notes: [...notes, ...draft.notes],
  };
}

/** Validates one DER target against a prepared context; `notes` start its result's notes. */
async function validateIn(
  target: Uint8Array,
  ctx: TrustContext,
  s: Settings,
  notes: string[],
): Promise<ValidationResult> {
  const budget = new WorkBudget(s.limits);
  const empty = (failure: PathFailure, path: CertificateFacts[] = []): ValidationResult =>
    finish({ path, complete: false, failure, revocation: [], notes: [] }, budget, undefined, notes);
  if (!(target instanceof Uint8Array)) {
    throw new TypeError(`expected the target to be a Uint8Array, got ${typeof target}`);
  }
  if (target.length > s.limits.maxCertificateBytes) {
    return empty({
      code: 'malformed',
      reason: `certificate is over ${s.limits.maxCertificateBytes} bytes`,
      failedAt: 0,
    });
  }
  let cert: CertificateFacts;
  try {
    cert = readCertificate(target);
  } catch (e) {
    return empty({ code: 'malformed', reason: (e as Error).message, failedAt: 0 });
  }
  const email =
    s.email !== undefined || s.profile === 'smime' ? matchEmail(cert, s.email) : undefined;
  const stop = (
    failure: PathFailure,
    path: readonly CertificateFacts[] = [cert],
    complete = false,
    revocation: RevocationCheck[] = [],
  ): ValidationResult =>
    finish({ path, complete, failure, revocation, notes: [] }, budget, email, notes);

  const own = targetProblem(cert, s, email);
  if (own) return stop(own);

  const deadEnds: DeadEnd[] = [];
  let first: Draft | undefined;
  try {
    for (const path of buildPaths(cert, ctx, budget, s.atSeconds * 1000, deadEnds)) {
      budget.path();
      const draft: Draft = { path, complete: true, revocation: [], notes: [] };
      draft.failure = checkPath(path, s.atSeconds, s.profile) ?? undefined;
      if (!draft.failure && s.checkRevocation) {
        draft.failure = await revocationFailure(path, ctx, budget, s, draft);
      }
      if (!s.checkRevocation) {
        draft.revocation = path
          .slice(0, -1)
          .map((c) => ({ fingerprint: c.fingerprint, status: 'not-checked', details: [] }));
      }
      if (!draft.failure) return finish(draft, budget, email, notes);
      first ??= draft;
      if (draft.failure.final) break;
    }
  } catch (e) {
    if (!(e instanceof LimitReached)) throw e;
    const best = first?.failure ? `; the best path found failed: ${first.failure.reason}` : '';
    const failure: PathFailure = {
      code: 'limit-exceeded',
      reason: `path building stopped after ${e.what}${best}`,
      failedAt: 0,
    };
    return first ? stop(failure, first.path, true, first.revocation) : stop(failure);
  }
  if (first) return finish(first, budget, email, notes);

  const dead = mostTelling(deadEnds);
  const kind = dead?.kind ?? 'no-issuer';
  const chain = dead?.chain ?? [cert];
  return stop(
    {
      code: DEAD_END_CODES[kind],
      reason: dead?.detail ?? `no path from "${cert.subject.text}" to a trust anchor`,
      failedAt: chain.length - 1,
    },
    chain,
  );
}

/** What a search that found no complete path reports, by its most telling dead end. */
const DEAD_END_CODES: Record<DeadEnd['kind'], PathFailure['code']> = {
  'self-signed': 'untrusted-root',
  'too-long': 'limit-exceeded',
  'no-issuer': 'broken-chain',
  'bad-signature': 'broken-chain',
  'key-id-mismatch': 'broken-chain',
  loop: 'broken-chain',
};

/** Checks that concern the target alone; a failure here ends the search (no path mends it). */
function targetProblem(
  cert: CertificateFacts,
  s: Settings,
  email: EmailMatch | undefined,
): PathFailure | null {
  const own = certificateProblem(cert, 0, true) ?? validityProblem(cert, s.atSeconds, 0, true);
  if (own) return own;
  const usage = s.profile === 'smime' ? smimeUsageProblem(cert) : null;
  if (usage)
    return { code: 'wrong-usage', reason: `"${cert.subject.text}": ${usage}`, failedAt: 0 };
  if (s.email !== undefined && email?.matched === undefined) {
    const names = email?.addresses.join(', ') || 'no address';
    return {
      code: 'email-mismatch',
      reason: `"${cert.subject.text}" names ${names}, not ${s.email}`,
      failedAt: 0,
    };
  }
  return null;
}

/**
 * Validates the DER certificate `target` (see README for every rule and result code).
 * Resolves to a result whatever the input bytes are.
 * @throws TypeError / RangeError for mistakes in `options` (not for bad certificates)
 */
export async function validate(
  target: Uint8Array,
  options: ValidateOptions,
): Promise<ValidationResult> {
  const s = settingsOf(options);
  const ctx = new TrustContext(options, s.limits);
  return validateIn(target, ctx, s, [...ctx.inputProblems]);
}

/** The outcome of {@link checkStore}. */
export interface StoreCheckReport {
  /** One result per certificate, in the order given. */
  readonly results: readonly ValidationResult[];
  /** Input items (anchors, intermediates, CRLs, OCSP responses) that were set aside. */
  readonly inputProblems: readonly string[];
}

/**
 * Validates many certificates that share anchors, intermediates and revocation data. Each
 * issuer key is imported once, each issuer signature and CRL signature verified once, each
 * CRL parsed once and each distribution point fetched once across the whole store. Limits
 * apply to each certificate separately, so one crafted certificate cannot starve the rest.
 * @throws TypeError / RangeError for mistakes in `options`, including an `email` (which
 *   names one person and so has no meaning for a whole store)
 */
export async function checkStore(
  certificates: readonly Uint8Array[],
  options: ValidateOptions,
): Promise<StoreCheckReport> {
  if (options?.email !== undefined) {
    throw new RangeError(`expected no email for a store check, got ${String(options.email)}`);
  }
  if (!Array.isArray(certificates)) {
    throw new TypeError(`expected an array of certificates, got ${typeof certificates}`);
  }
  const s = settingsOf(options);
  const ctx = new TrustContext(options, s.limits);
  const results: ValidationResult[] = [];
  for (const der of certificates) results.push(await validateIn(der, ctx, s, []));
  return { results, inputProblems: ctx.inputProblems };
}
