/**
 * Revocation of one certificate of a path, from CRLs (RFC 5280 6.3) and OCSP (RFC 6960),
 * supplied or fetched. A piece of revocation data counts only once it is proven to speak
 * for this certificate's issuer about this certificate:
 *
 * - a CRL: its signature verifies with the issuer's key, the issuer may sign CRLs, it is a
 *   complete CRL (not a delta) with no critical extension certsync does not know, and its
 *   issuing distribution point covers the certificate;
 * - an OCSP response: its CertID names this certificate and issuer, it is signed by the
 *   issuer or by a responder certificate the issuer signed with id-kp-OCSPSigning, and it
 *   echoes the nonce when certsync sent one.
 *
 * "Good" further needs fresh data (thisUpdate not in the future beyond the allowed skew,
 * nextUpdate not passed). "Revoked" from proven data counts even when stale, since a
 * revocation is never undone (certificateHold excepted). So stale, forged or mismatched data
 * can never turn "revoked" into "good". Data that claims to be about the certificate but
 * fails these proofs is marked hostile; the validator then refuses under either policy.
 */
import type { CertificateFacts } from '../pki/extensions.ts';
import { OID } from '../pki/extensions.ts';
import type { CrlFacts } from '../pki/crl-facts.ts';
import {
  buildOcspRequest,
  certIdUnder,
  keyHash,
  readOcspResponse,
  type OcspBasicResponse,
  type OcspResponseFacts,
} from '../pki/ocsp.ts';
import { readCertificate } from '../pki/extensions.ts';
import { describePublicKey, describeSignatureAlgorithm } from '../pki/signature.ts';
import type { FetchLimits, RevocationFetcher, ValidationLimits } from './options.ts';
import type { RevocationCheck } from './result.ts';
import { boundedFetch, FetchTimeout } from './fetcher.ts';
import { certificateAsSigned, type TrustContext, type WorkBudget } from './trust-context.ts';

/** The inputs revocation checking shares across the certificates of a path. */
export interface RevocationEnv {
  readonly ctx: TrustContext;
  readonly budget: WorkBudget;
  readonly atSeconds: number;
  readonly limits: ValidationLimits;
  readonly fetcher?: RevocationFetcher;
}

/** One certificate's revocation status, and whether forged data was offered for it. */
export interface RevocationOutcome extends RevocationCheck {
  readonly hostile: boolean;
}

interface Verdict {
  readonly status: 'good' | 'revoked' | 'unknown';
  readonly source?: 'crl' | 'ocsp';
  readonly hostile?: boolean;
  readonly revokedAt?: Date;
  readonly reason?: string;
  readonly detail: string;
}

const secs = (d: Date): number => Math.floor(d.getTime() / 1000);

/** Judges one CRL for `cert` issued by `issuer`; null when the CRL is not about them. */
export function crlVerdict(
  crl: CrlFacts,
  cert: CertificateFacts,
  issuer: CertificateFacts,
  env: RevocationEnv,
): Verdict | null {
  if (crl.issuer.key !== cert.issuer.key) return null;
  if (crl.authorityKeyId && issuer.subjectKeyId && crl.authorityKeyId !== issuer.subjectKeyId) {
    return null; // a CRL of another key of the same CA name
  }
  const unusable = (why: string, hostile = false): Verdict => ({
    status: 'unknown',
    source: 'crl',
    hostile,
    detail: `CRL of "${crl.issuer.text}" not used: ${why}`,
  });
  const alg = describeSignatureAlgorithm(crl.signatureAlgorithm);
  if (alg.refused) return unusable(`signed with ${alg.refused}`);
  if (!crl.algorithmsAgree) return unusable('names two different signature algorithms');
  const id = env.ctx.idOf(crl, crl.der);
  const signed = {
    id,
    tbs: crl.tbs,
    signature: crl.signature,
    signatureAlgorithm: crl.signatureAlgorithm,
  };
  if (!env.ctx.verify(signed, issuer, env.budget)) {
    return unusable("its signature does not verify with the issuer's key (forged?)", true);
  }
  if (issuer.keyUsage && !issuer.keyUsage.has('cRLSign')) {
    return unusable("the issuer's key usage does not allow cRLSign");
  }
  if (crl.isDelta) return unusable('it is a delta CRL');
  if (crl.unknownCritical.length) return unusable(`critical ${crl.unknownCritical.join(', ')}`);
  if (crl.duplicateExtensions.length) return unusable('it repeats an extension');
  const scope = crl.scope;
  const isCa = cert.basicConstraints?.ca === true;
  if (scope) {
    if (scope.indirect) return unusable('indirect CRLs are not supported');
    if (scope.onlyAttributeCerts) return unusable('it covers attribute certificates only');
    if (scope.onlyUserCerts && isCa) return unusable('it covers end-entity certificates only');
    if (scope.onlyCaCerts && !isCa) return unusable('it covers CA certificates only');
    if (
      scope.uris.length > 0 &&
      cert.crlDistributionPoints.length > 0 &&
      !scope.uris.some((u) => cert.crlDistributionPoints.includes(u))
    ) {
      return unusable("its distribution point is not the certificate's");
    }
  }
  const at = env.atSeconds;
  const skew = env.limits.revocationSkewSeconds;
  if (secs(crl.thisUpdate) > at + skew) return unusable('it was issued after the check time');
  const stale = !crl.nextUpdate || at > secs(crl.nextUpdate);
  const entry = crl.revoked.get(cert.serial);
  if (entry && !(stale && entry.reason === 'certificateHold')) {
    return {
      status: 'revoked',
      source: 'crl',
      revokedAt: entry.date,
      ...(entry.reason && { reason: entry.reason }),
      detail: `listed in the CRL of "${crl.issuer.text}" (${entry.reason ?? 'no reason given'})`,
    };
  }
  if (stale) {
    const when = crl.nextUpdate
      ? `its next update was ${crl.nextUpdate.toISOString()}`
      : 'no nextUpdate';
    return unusable(`it is stale: ${when}`);
  }
  if (scope?.onlySomeReasons) return unusable('it covers only some revocation reasons');
  return {
    status: 'good',
    source: 'crl',
    detail: `not listed in the fresh CRL of "${crl.issuer.text}"`,
  };
}

function findSigner(
  basic: OcspBasicResponse,
  issuer: CertificateFacts,
  env: RevocationEnv,
): CertificateFacts | string {
  if (basic.responderKeyHash === keyHash(issuer)) return issuer;
  if (basic.responderName && basic.responderName.key === issuer.subject.key) return issuer;
  for (const der of basic.certs) {
    let c: CertificateFacts;
    try {
      c = readCertificate(der);
    } catch {
      continue;
    }
    const named = basic.responderKeyHash
      ? basic.responderKeyHash === keyHash(c)
      : basic.responderName?.key === c.subject.key;
    if (!named) continue;
    // RFC 6960 4.2.2.2: a delegated responder is certified by the issuer itself for OCSPSigning.
    if (c.issuer.key !== issuer.subject.key)
      return 'its responder certificate is from another issuer';
    if (!c.extKeyUsage?.includes(OID.ekuOcspSigning)) {
      return 'its responder certificate lacks id-kp-OCSPSigning';
    }
    const at = env.atSeconds;
    if (at < secs(c.notBefore) || at > secs(c.notAfter))
      return 'its responder certificate is not valid';
    if (
      describeSignatureAlgorithm(c.signatureAlgorithm).refused ||
      describePublicKey(c.spki).refused
    ) {
      return 'its responder certificate uses a refused algorithm';
    }
    if (!env.ctx.verify(certificateAsSigned(c), issuer, env.budget)) {
      return 'its responder certificate is not signed by the issuer';
    }
    return c;
  }
  return 'its signer is neither the issuer nor a responder the issuer authorised';
}

/**
 * Judges one OCSP response for `cert`; null when it says nothing about it. When the
 * response was fetched for this certificate (`expectedNonce` set), saying nothing about it
 * or lacking the nonce is itself hostile.
 */
export function ocspVerdict(
  response: OcspResponseFacts,
  cert: CertificateFacts,
  issuer: CertificateFacts,
  env: RevocationEnv,
  expectedNonce?: string,
): Verdict | null {
  const fetched = expectedNonce !== undefined;
  const unusable = (why: string, hostile = false): Verdict => ({
    status: 'unknown',
    source: 'ocsp',
    hostile,
    detail: `OCSP response not used: ${why}`,
  });
  const basic = response.basic;
  if (!basic) return fetched ? unusable(`the responder answered "${response.status}"`) : null;
  const single = basic.responses.find((s) => {
    const id = certIdUnder(s.certId.hashAlgorithm, cert, issuer);
    return (
      id !== undefined &&
      id.issuerNameHash === s.certId.issuerNameHash &&
      id.issuerKeyHash === s.certId.issuerKeyHash &&
      id.serial === s.certId.serial
    );
  });
  if (!single) return fetched ? unusable('it answers for a different certificate', true) : null;
  const alg = describeSignatureAlgorithm(basic.signatureAlgorithm);
  if (alg.refused) return unusable(`signed with ${alg.refused}`);
  const signer = findSigner(basic, issuer, env);
  if (typeof signer === 'string') return unusable(signer, true);
  const id = env.ctx.idOf(basic, basic.tbs, basic.signature);
  const signed = {
    id,
    tbs: basic.tbs,
    signature: basic.signature,
    signatureAlgorithm: basic.signatureAlgorithm,
  };
  if (!env.ctx.verify(signed, signer, env.budget)) {
    return unusable('its signature does not verify (forged?)', true);
  }
  if (fetched && basic.nonce !== expectedNonce)
    return unusable('it does not carry the nonce sent', true);
  if (basic.unknownCritical.length || single.unknownCritical.length) {
    return unusable('it has a critical extension certsync does not know');
  }
  const at = env.atSeconds;
  const skew = env.limits.revocationSkewSeconds;
  if (secs(single.thisUpdate) > at + skew || secs(basic.producedAt) > at + skew) {
    return unusable('it was produced after the check time');
  }
  if (single.status === 'revoked') {
    return {
      status: 'revoked',
      source: 'ocsp',
      ...(single.revokedAt && { revokedAt: single.revokedAt }),
      detail: 'the OCSP responder says revoked',
    };
  }
  const stale = single.nextUpdate
    ? at > secs(single.nextUpdate)
    : at - secs(single.thisUpdate) > env.limits.ocspMaxAgeSeconds;
  if (stale) return unusable('it is stale');
  if (single.status === 'unknown') return unusable('the responder does not know the certificate');
  return { status: 'good', source: 'ocsp', detail: 'the OCSP responder says good' };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/**
 * Runs one fetch unless its host already timed out during this check: a host that stalls is
 * given one deadline per store check, not one per certificate, so certificates that all
 * point at a tarpit cost one timeout together.
 */
async function fetchOnce(
  url: string,
  env: RevocationEnv,
  maxBytes: number,
  run: (limits: FetchLimits) => Promise<Uint8Array>,
): Promise<Uint8Array> {
  const host = hostOf(url);
  const earlier = env.ctx.stalledHosts.get(host);
  if (earlier) throw new Error(`skipped: ${host} ${earlier} earlier in this check`);
  try {
    return await boundedFetch(run, maxBytes, env.limits.fetchTimeoutMs);
  } catch (e) {
    if (e instanceof FetchTimeout) env.ctx.stalledHosts.set(host, 'timed out');
    throw e;
  }
}

async function fetchOcsp(
  cert: CertificateFacts,
  issuer: CertificateFacts,
  env: RevocationEnv,
  fetcher: RevocationFetcher,
): Promise<Verdict | null> {
  const url = cert.ocspUrls[0];
  if (!url || !env.budget.fetch()) return null;
  const request = buildOcspRequest(cert, issuer);
  try {
    const body = await fetchOnce(url, env, env.limits.maxOcspBytes, (limits) =>
      fetcher.postOcsp(url, request.der, limits),
    );
    return ocspVerdict(readOcspResponse(body), cert, issuer, env, request.nonce);
  } catch (e) {
    return { status: 'unknown', detail: `OCSP at ${url}: ${(e as Error).message}` };
  }
}

async function fetchCrl(
  url: string,
  env: RevocationEnv,
  fetcher: RevocationFetcher,
): Promise<string | null> {
  const known = env.ctx.fetchedCrls.get(url);
  if (known !== undefined) return typeof known === 'string' ? known : null;
  if (!env.budget.fetch()) return 'fetch limit reached';
  try {
    const body = await fetchOnce(url, env, env.limits.maxCrlBytes, (limits) =>
      fetcher.get(url, limits),
    );
    const crl = env.ctx.parseCrl(body, `CRL from ${url}`, env.limits);
    if (!crl) throw new Error('the CRL is malformed');
    env.ctx.fetchedCrls.set(url, crl);
    env.ctx.addCrl(crl);
    return null;
  } catch (e) {
    const why = `CRL at ${url}: ${(e as Error).message}`;
    env.ctx.fetchedCrls.set(url, why);
    return why;
  }
}

function combine(cert: CertificateFacts, verdicts: Verdict[]): RevocationOutcome {
  const details = verdicts.map((v) => v.detail);
  const hostile = verdicts.some((v) => v.hostile === true);
  const base = { fingerprint: cert.fingerprint, details, hostile };
  const revoked = verdicts.find((v) => v.status === 'revoked');
  if (revoked) {
    return {
      ...base,
      status: 'revoked',
      ...(revoked.source && { source: revoked.source }),
      ...(revoked.revokedAt && { revokedAt: revoked.revokedAt }),
      ...(revoked.reason && { reason: revoked.reason }),
    };
  }
  const good = verdicts.find((v) => v.status === 'good');
  if (good) return { ...base, status: 'good', ...(good.source && { source: good.source }) };
  return { ...base, status: 'unknown', details: details.length ? details : ['no revocation data'] };
}

/**
 * The revocation status of `cert` issued by `issuer`: supplied data first, then (with a
 * fetcher, within the fetch budget) its OCSP responder and CRL distribution points.
 * @throws LimitReached when the signature budget is spent
 */
export async function checkRevocation(
  cert: CertificateFacts,
  issuer: CertificateFacts,
  env: RevocationEnv,
): Promise<RevocationOutcome> {
  const verdicts: Verdict[] = [];
  const decided = (): boolean => verdicts.some((v) => v.status !== 'unknown');
  const judgeCrls = (): void => {
    for (const crl of env.ctx.crlsFor(cert.issuer.key)) {
      const v = crlVerdict(crl, cert, issuer, env);
      if (v && !verdicts.some((x) => x.detail === v.detail && x.status === v.status))
        verdicts.push(v);
    }
  };
  judgeCrls();
  for (const response of env.ctx.ocspResponses) {
    const v = ocspVerdict(response, cert, issuer, env);
    if (v) verdicts.push(v);
  }
  const fetcher = env.fetcher;
  if (fetcher && !decided()) {
    const v = await fetchOcsp(cert, issuer, env, fetcher);
    if (v) verdicts.push(v);
  }
  if (fetcher && !decided()) {
    for (const url of cert.crlDistributionPoints) {
      const problem = await fetchCrl(url, env, fetcher);
      if (problem) verdicts.push({ status: 'unknown', detail: problem });
      judgeCrls();
      if (decided()) break;
    }
  }
  return combine(cert, verdicts);
}
