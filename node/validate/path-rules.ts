/**
 * The RFC 5280 section 6.1 checks on one complete path (target first, trust anchor last),
 * processed from the anchor down as the RFC describes, plus the encoding rules of section
 * 4.1 that a certificate on a path must keep. Signatures were verified while the path was
 * built; revocation is checked afterwards, by revocation.ts.
 *
 * The trust anchor is a certificate here. Its validity period, key, basic constraints,
 * path length and name constraints are enforced (RFC 5937 makes the last three optional;
 * certsync applies them), its own signature and other extensions are not.
 */
import type { CertificateFacts } from '../pki/extensions.ts';
import { describePublicKey, describeSignatureAlgorithm } from '../pki/signature.ts';
import {
  addConstraints,
  nameConstraintViolation,
  type NameConstraintState,
} from './name-constraints.ts';
import type { Profile } from './options.ts';
import type { PathFailure } from './result.ts';
import { smimeUsageProblem } from './smime-profile.ts';

/** RFC 5280 4.1.2.2: serial numbers are at most 20 octets. */
const MAX_SERIAL_OCTETS = 20;

function who(cert: CertificateFacts): string {
  return `"${cert.subject.text || cert.fingerprint.slice(0, 16)}"`;
}

/** Seconds since the epoch, the precision RFC 5280 times carry. */
export function wholeSeconds(d: Date): number {
  return Math.floor(d.getTime() / 1000);
}

/** Validity at `at` (whole seconds, both ends inclusive, RFC 5280 4.1.2.5). */
export function validityProblem(
  cert: CertificateFacts,
  atSeconds: number,
  index: number,
  final: boolean,
): PathFailure | null {
  if (atSeconds < wholeSeconds(cert.notBefore)) {
    return {
      code: 'not-yet-valid',
      reason: `${who(cert)} is not valid before ${cert.notBefore.toISOString()}`,
      failedAt: index,
      final,
    };
  }
  if (atSeconds > wholeSeconds(cert.notAfter)) {
    return {
      code: 'expired',
      reason: `${who(cert)} expired at ${cert.notAfter.toISOString()}`,
      failedAt: index,
      final,
    };
  }
  return null;
}

/**
 * Encoding and extension rules of one certificate that do not depend on the path: version,
 * serial number, duplicate and unknown critical extensions, algorithm agreement, weak
 * algorithms and keys. `final` marks failures of the target (no other path helps).
 */
export function certificateProblem(
  cert: CertificateFacts,
  index: number,
  final: boolean,
): PathFailure | null {
  const fail = (code: PathFailure['code'], what: string): PathFailure => ({
    code,
    reason: `${who(cert)} ${what}`,
    failedAt: index,
    final,
  });
  if (cert.version < 1 || cert.version > 3) return fail('malformed', `has version ${cert.version}`);
  if (cert.extensionOids.length > 0 && cert.version !== 3) {
    return fail('malformed', `has extensions but is version ${cert.version} (RFC 5280 4.1.2.9)`);
  }
  if (cert.hasUniqueIds && cert.version < 2) {
    return fail('malformed', 'has unique identifiers but is version 1 (RFC 5280 4.1.2.8)');
  }
  if (cert.serialNegative || cert.serialZero) {
    return fail('malformed', 'has a serial number that is not positive (RFC 5280 4.1.2.2)');
  }
  if (cert.serialOctets > MAX_SERIAL_OCTETS) {
    return fail('malformed', `has a serial number of ${cert.serialOctets} octets (at most 20)`);
  }
  if (cert.duplicateExtensions.length > 0) {
    return fail(
      'malformed',
      `repeats extension ${cert.duplicateExtensions.join(', ')} (RFC 5280 4.2)`,
    );
  }
  if (!cert.algorithmsAgree) {
    return fail('malformed', 'names two different signature algorithms (RFC 5280 4.1.1.2)');
  }
  if (cert.unknownCritical.length > 0) {
    return fail(
      'unknown-critical-extension',
      `has critical extension ${cert.unknownCritical.join(', ')}, which certsync cannot honour`,
    );
  }
  const alg = describeSignatureAlgorithm(cert.signatureAlgorithm);
  if (alg.refused) return fail('weak-algorithm', `is signed with ${alg.refused}`);
  const key = describePublicKey(cert.spki);
  if (key.refused) return fail('weak-algorithm', `has a refused key: ${key.refused}`);
  return null;
}

/**
 * Checks a complete path against RFC 5280 6.1 and, for the `smime` profile, the target
 * against RFC 8550. Returns the first failure, or null when the path is good.
 */
export function checkPath(
  path: readonly CertificateFacts[],
  atSeconds: number,
  profile: Profile,
): PathFailure | null {
  const n = path.length;
  const anchorIndex = n - 1;
  const anchor = path[anchorIndex] as CertificateFacts;
  const fail = (code: PathFailure['code'], index: number, what: string): PathFailure => ({
    code,
    reason: `${who(path[index] as CertificateFacts)} ${what}`,
    failedAt: index,
  });

  const anchorTime = validityProblem(anchor, atSeconds, anchorIndex, n === 1);
  if (anchorTime) return anchorTime;
  const anchorKey = describePublicKey(anchor.spki);
  if (anchorKey.refused) return fail('weak-algorithm', anchorIndex, `has ${anchorKey.refused}`);

  // 6.1.2: path length and name constraints start from the anchor's own.
  let maxPathLength = anchor.basicConstraints?.pathLen ?? Number.POSITIVE_INFINITY;
  const names: NameConstraintState = { permitted: [], excluded: [] };
  if (n > 1) {
    if (anchor.version === 3 && anchor.basicConstraints?.ca !== true) {
      return fail('constraint-violated', anchorIndex, 'is a trust anchor but not a CA certificate');
    }
    if (anchor.keyUsage && !anchor.keyUsage.has('keyCertSign')) {
      return fail('constraint-violated', anchorIndex, 'has a key usage without keyCertSign');
    }
    addConstraints(names, anchor);
  }

  for (let i = n - 2; i >= 0; i--) {
    const cert = path[i] as CertificateFacts;
    const isTarget = i === 0;
    const own = certificateProblem(cert, i, isTarget);
    if (own) return own;
    const time = validityProblem(cert, atSeconds, i, isTarget);
    if (time) return time;

    // 6.1.3 (b)-(c): self-issued intermediates are exempt; the target never is.
    if (isTarget || !cert.selfIssued) {
      const violation = nameConstraintViolation(cert, names);
      if (violation)
        return fail('constraint-violated', i, `breaks a name constraint: ${violation}`);
    }
    if (isTarget) break;

    // 6.1.4 (k): only a CA certificate may issue.
    if (cert.version !== 3 || cert.basicConstraints?.ca !== true) {
      return fail('constraint-violated', i, 'issues certificates but is not a CA certificate');
    }
    // 6.1.4 (l)-(m): path length counts non-self-issued intermediates.
    if (!cert.selfIssued) {
      if (maxPathLength <= 0) {
        return fail('constraint-violated', i, 'is beyond the path length its issuers allow');
      }
      maxPathLength--;
    }
    const pathLen = cert.basicConstraints.pathLen;
    if (pathLen !== undefined && pathLen < maxPathLength) maxPathLength = pathLen;
    // 6.1.4 (n): a key usage, when present, must allow certificate signing.
    if (cert.keyUsage && !cert.keyUsage.has('keyCertSign')) {
      return fail(
        'constraint-violated',
        i,
        'issues certificates but its key usage lacks keyCertSign',
      );
    }
    addConstraints(names, cert);
  }

  if (profile === 'smime') {
    const target = path[0] as CertificateFacts;
    const usage = smimeUsageProblem(target);
    if (usage)
      return { code: 'wrong-usage', reason: `${who(target)}: ${usage}`, failedAt: 0, final: true };
  }
  return null;
}
