/**
 * How the CLI shows things: dates, fingerprints, tables, and the JSON form of records.
 */
import type { CertificateRecord, CrlRecord } from '../store/index.ts';
import { toHex } from '../pki/index.ts';

/** `2026-12-03`. */
export function day(date: Date | undefined): string {
  return date ? date.toISOString().slice(0, 10) : '-';
}

/** The first 16 hex digits: enough to name a certificate on the command line. */
export function shortFingerprint(hex: string): string {
  return hex.slice(0, 16);
}

/** Validity of a certificate at `now`. */
export function validityState(
  record: CertificateRecord,
  now: number,
): 'valid' | 'expired' | 'not-yet-valid' {
  if (record.notAfter.getTime() < now) return 'expired';
  if (record.notBefore.getTime() > now) return 'not-yet-valid';
  return 'valid';
}

/** Left-aligned columns, two spaces apart; the last column is not padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** The JSON form of a certificate record (dates ISO, bytes hex). */
export function certificateJson(record: CertificateRecord, now: number): Record<string, unknown> {
  return {
    fingerprint: record.fingerprintHex,
    position: record.position,
    name: record.displayName,
    subject: record.subject,
    issuer: record.issuer,
    commonName: record.commonName ?? null,
    serial: record.serialHex,
    notBefore: record.notBefore.toISOString(),
    notAfter: record.notAfter.toISOString(),
    validity: validityState(record, now),
    emails: record.emails,
    keyAlgorithm: record.keyAlgorithm,
    keySize: record.keySize ?? null,
    isCA: record.isCA,
    addedAt: record.addedAt.toISOString(),
    source: record.source,
    lastUsedAt: record.lastUsedAt?.toISOString() ?? null,
    useCount: record.useCount,
    label: record.label ?? null,
    pinned: record.pinned,
    contact: record.contactName ?? null,
    clock: record.clock,
    origin: toHex(record.origin),
  };
}

/** The JSON form of a CRL record. */
export function crlJson(record: CrlRecord): Record<string, unknown> {
  return {
    fingerprint: record.fingerprintHex,
    position: record.position,
    issuer: record.issuer,
    thisUpdate: record.thisUpdate.toISOString(),
    nextUpdate: record.nextUpdate?.toISOString() ?? null,
    revoked: record.revokedCount,
    addedAt: record.addedAt.toISOString(),
    source: record.source,
  };
}

/** `text` cut to `max` characters, ending in an ellipsis when cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** One line naming a certificate: short fingerprint and the name shown. */
export function certificateLine(record: CertificateRecord): string {
  return `${shortFingerprint(record.fingerprintHex)}  ${record.displayName}`;
}
