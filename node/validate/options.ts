/**
 * The settings of a validation: trust anchors and other inputs, the profile, the
 * revocation policy, and the hard limits that keep a crafted input from stalling it.
 */

/** Which rules apply to the target certificate. */
export type Profile =
  /** RFC 8550 S/MIME end-entity: usage for mail, not a CA, e-mail matched. */
  | 'smime'
  /** RFC 5280 path validation only; no end-entity usage checks. */
  | 'pkix';

/**
 * What to do when revocation cannot be decided for a certificate on the path.
 * `soft-fail` (the default) accepts the certificate and says so in the result's notes;
 * `hard-fail` returns `revocation-unknown`. Under both, revocation data that was offered for
 * the certificate but is forged (bad signature, unauthorised signer, wrong nonce) gives
 * `revocation-unknown`: soft-fail forgives missing or stale data, never forged data.
 */
export type RevocationPolicy = 'hard-fail' | 'soft-fail';

/**
 * Network access for revocation data, injected so tests point it at 127.0.0.1 and so the
 * validator can run offline. Implementations must honour `signal` and `maxBytes`; the
 * validator enforces both again on its side.
 */
export interface RevocationFetcher {
  /** GETs a CRL from a distribution point URL. */
  get(url: string, limits: FetchLimits): Promise<Uint8Array>;
  /** POSTs a DER OCSP request (`application/ocsp-request`) and returns the response body. */
  postOcsp(url: string, body: Uint8Array, limits: FetchLimits): Promise<Uint8Array>;
}

/** The bounds one fetch must keep. */
export interface FetchLimits {
  readonly maxBytes: number;
  readonly signal: AbortSignal;
}

/** Hard bounds on one validation. Every one is checked; hitting one is a clear result. */
export interface ValidationLimits {
  /** Most certificates in a path, target and anchor included. */
  readonly maxPathLength: number;
  /** Most signature verifications (certificates, CRLs, OCSP) for one target. */
  readonly maxSignatureChecks: number;
  /** Most issuer candidates looked at while building paths for one target. */
  readonly maxCandidates: number;
  /** Most complete paths checked against the rules for one target. */
  readonly maxPaths: number;
  /** Most network fetches for one target. */
  readonly maxFetches: number;
  /** Deadline of one fetch, from start to last byte. */
  readonly fetchTimeoutMs: number;
  /** Largest CRL accepted, supplied or fetched. */
  readonly maxCrlBytes: number;
  /** Largest OCSP response accepted. */
  readonly maxOcspBytes: number;
  /** Largest certificate accepted. */
  readonly maxCertificateBytes: number;
  /** How far in the future a CRL's or OCSP response's thisUpdate may be (clock skew). */
  readonly revocationSkewSeconds: number;
  /** Age after which an OCSP response without nextUpdate is stale. */
  readonly ocspMaxAgeSeconds: number;
}

/** The defaults; see README for the reasoning behind each figure. */
export const DEFAULT_LIMITS: ValidationLimits = Object.freeze({
  maxPathLength: 8,
  maxSignatureChecks: 64,
  maxCandidates: 256,
  maxPaths: 16,
  maxFetches: 6,
  fetchTimeoutMs: 5000,
  maxCrlBytes: 16 << 20,
  maxOcspBytes: 64 << 10,
  maxCertificateBytes: 1 << 20,
  revocationSkewSeconds: 300,
  ocspMaxAgeSeconds: 7 * 86400,
});

/** Everything {@link validate} takes besides the target. */
export interface ValidateOptions {
  /** DER trust anchors (certificates the user trusts). */
  readonly anchors: readonly Uint8Array[];
  /** DER certificates that may serve as intermediates (from the store, a mail, a peer). */
  readonly intermediates?: readonly Uint8Array[];
  /** DER CRLs available offline. */
  readonly crls?: readonly Uint8Array[];
  /** DER OCSP responses available offline (e.g. stapled by a peer). */
  readonly ocspResponses?: readonly Uint8Array[];
  /** Network access for CRL distribution points and OCSP responders; none by default. */
  readonly fetcher?: RevocationFetcher;
  /** The time to validate at; default now. Compared in whole seconds. */
  readonly at?: Date;
  /** The address the certificate should be for; compared with its rfc822 names. */
  readonly email?: string;
  /** Default `smime`. */
  readonly profile?: Profile;
  /** Default `soft-fail`. */
  readonly revocation?: RevocationPolicy;
  /** Set false to skip revocation checking entirely (results say `not-checked`). */
  readonly checkRevocation?: boolean;
  readonly limits?: Partial<ValidationLimits>;
}

/** Fills defaults and checks the caller's arguments. @throws TypeError / RangeError */
export function resolveLimits(limits: Partial<ValidationLimits> | undefined): ValidationLimits {
  const out = { ...DEFAULT_LIMITS, ...limits };
  for (const [k, v] of Object.entries(out)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new RangeError(`expected limits.${k} to be a non-negative number, got ${String(v)}`);
    }
  }
  return out;
}
