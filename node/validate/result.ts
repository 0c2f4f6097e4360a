/**
 * What a validation says: one stable code from a closed set, a sentence for a person, the
 * path it used, the e-mail match, what revocation checking found, and the work it took.
 * Codes are part of certsync's interface (the client and the CLI show and act on them):
 * never rename or reuse one.
 */

/** Every result code, with what it means. */
export const RESULT_CODES = {
  valid: 'the certificate chains to a trust anchor and passed every check',
  expired: 'a certificate on the path is past its notAfter time',
  'not-yet-valid': 'a certificate on the path is before its notBefore time',
  revoked: 'a certificate on the path is revoked by a CRL or OCSP response that verified',
  'untrusted-root': 'the chain ends at a self-signed certificate that is not a trust anchor',
  'broken-chain': 'no issuer was found, or no issuer signature verified, or only loops remained',
  'constraint-violated':
    'a basic constraint, path length, issuer key usage or name constraint was broken',
  'weak-algorithm': 'a signature algorithm or public key on the path is weak or unsupported',
  'wrong-usage': 'the certificate is not meant for this use (key usage, extended key usage, CA)',
  'email-mismatch': 'the certificate does not name the requested e-mail address',
  'unknown-critical-extension':
    'a certificate marks as critical an extension certsync cannot honour',
  'revocation-unknown':
    'revocation could not be decided (no usable data under hard-fail, or forged data offered)',
  malformed: 'the certificate, or a certificate on the path, breaks the X.509 encoding rules',
  'limit-exceeded': 'path building hit its bound on depth or work before finding a valid path',
} as const;

/** A stable validation result code. */
export type ResultCode = keyof typeof RESULT_CODES;

/** One certificate of the path, target first, trust anchor last. */
export interface PathEntry {
  readonly fingerprint: string;
  readonly subject: string;
  readonly issuer: string;
  /** Serial number, hex. */
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** True for the trust anchor that ends the path. */
  readonly anchor: boolean;
}

/** How the requested address was found in the certificate. */
export interface EmailMatch {
  /** The address asked for, if any. */
  readonly requested?: string;
  /** The certificate's address that matched it. */
  readonly matched?: string;
  /** Where the match came from: RFC 5280 rfc822Name or the legacy subject emailAddress. */
  readonly source?: 'rfc822Name' | 'emailAddress';
  /** Every address the certificate names (rfc822Name first). */
  readonly addresses: readonly string[];
}

/** What revocation checking found for one certificate of the path. */
export interface RevocationCheck {
  readonly fingerprint: string;
  readonly status: 'good' | 'revoked' | 'unknown' | 'not-checked';
  /** Which kind of data decided it. */
  readonly source?: 'crl' | 'ocsp';
  readonly revokedAt?: Date;
  readonly reason?: string;
  /** One line per source looked at, including data that was refused and why. */
  readonly details: readonly string[];
}

/** The work one validation did; every figure has a bound in {@link ValidationLimits}. */
export interface WorkDone {
  signatureChecks: number;
  candidates: number;
  paths: number;
  fetches: number;
}

/** The outcome of validating one certificate. */
export interface ValidationResult {
  readonly code: ResultCode;
  /** Same as `code === 'valid'`. */
  readonly valid: boolean;
  /** A sentence for a person: which certificate, and what was wrong with it. */
  readonly reason: string;
  /** The path this result is about (target first); the partial chain when none completed. */
  readonly path: readonly PathEntry[];
  /** Index in `path` of the certificate the failure is about. */
  readonly failedAt?: number;
  readonly email?: EmailMatch;
  /** One entry per certificate of the path except the trust anchor. */
  readonly revocation: readonly RevocationCheck[];
  readonly work: Readonly<WorkDone>;
  /** Things a careful reader should know, e.g. revocation passed under soft-fail. */
  readonly notes: readonly string[];
}

/** A failure found while checking one path, before it becomes a {@link ValidationResult}. */
export interface PathFailure {
  readonly code: Exclude<ResultCode, 'valid'>;
  readonly reason: string;
  readonly failedAt: number;
  /**
   * True when no other path can change the outcome: the failure is about the target alone
   * (its validity, usage, address, encoding), so path search stops.
   */
  readonly final?: boolean;
}

/** True when `code` is one of {@link RESULT_CODES}. */
export function isResultCode(code: unknown): code is ResultCode {
  return typeof code === 'string' && Object.hasOwn(RESULT_CODES, code);
}
