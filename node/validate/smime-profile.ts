/**
 * The S/MIME end-entity profile (RFC 8550 4.4) and e-mail matching (RFC 8550 3, RFC 5280
 * 4.2.1.6 and 7.5).
 */
import type { CertificateFacts } from '../pki/extensions.ts';
import { OID } from '../pki/extensions.ts';
import type { EmailMatch } from './result.ts';

/**
 * Why `cert` cannot serve as an S/MIME end-entity certificate, or null when it can:
 * it must not be a CA (RFC 5280 4.2.1.9: a CA key signs certificates, not mail); a key
 * usage, when present, must allow signing or key transport/agreement (RFC 8550 4.4.2);
 * an extended key usage, when present, must include emailProtection or anyExtendedKeyUsage
 * (RFC 8550 4.4.4). A certificate without either extension is accepted, as the profile
 * allows.
 */
export function smimeUsageProblem(cert: CertificateFacts): string | null {
  if (cert.basicConstraints?.ca) return 'it is a CA certificate, not an end-entity certificate';
  const ku = cert.keyUsage;
  if (
    ku &&
    !['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'keyAgreement'].some((u) =>
      ku.has(u as never),
    )
  ) {
    return `its key usage (${[...ku].join(', ') || 'none'}) allows neither signing nor encryption`;
  }
  const eku = cert.extKeyUsage;
  if (eku && !eku.includes(OID.ekuEmailProtection) && !eku.includes(OID.ekuAny)) {
    return `its extended key usage (${eku.join(', ')}) does not include emailProtection`;
  }
  return null;
}

function sameAddress(a: string, b: string): boolean {
  const ia = a.lastIndexOf('@');
  const ib = b.lastIndexOf('@');
  if (ia <= 0 || ib <= 0) return false;
  // RFC 5280 7.5: the local part is compared exactly, the host case-insensitively.
  return (
    a.slice(0, ia) === b.slice(0, ib) &&
    a.slice(ia + 1).toLowerCase() === b.slice(ib + 1).toLowerCase()
  );
}

/**
 * The addresses `cert` names and whether one of them is `requested`. rfc822Name entries
 * of the subject alternative name come first; the legacy emailAddress attribute of the
 * subject counts only when the certificate has no rfc822Name (RFC 5280 4.1.2.6).
 */
export function matchEmail(cert: CertificateFacts, requested?: string): EmailMatch {
  const sanMail = cert.subjectAltName?.rfc822 ?? [];
  const addresses = [...sanMail, ...cert.subject.emails.filter((e) => !sanMail.includes(e))];
  if (requested === undefined) return { addresses };
  const fromSan = sanMail.find((a) => sameAddress(a, requested));
  if (fromSan) return { requested, matched: fromSan, source: 'rfc822Name', addresses };
  if (sanMail.length === 0) {
    const fromSubject = cert.subject.emails.find((a) => sameAddress(a, requested));
    if (fromSubject) return { requested, matched: fromSubject, source: 'emailAddress', addresses };
  }
  return { requested, addresses };
}
