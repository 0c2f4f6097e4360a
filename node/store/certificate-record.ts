/**
 * A stored certificate as the store hands it out, and the SQL that reads it.
 */
import { toHex } from '../pki/index.ts';

/** One certificate of a store: the parsed fields plus the store's own bookkeeping. */
export interface CertificateRecord {
  readonly fingerprint: Uint8Array;
  readonly fingerprintHex: string;
  /** Position in store order (grows with every insert; never reused). */
  readonly position: number;
  readonly subject: string;
  readonly issuer: string;
  readonly commonName: string | undefined;
  readonly serialHex: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Lowercased addresses from subject and SAN, sorted. */
  readonly emails: readonly string[];
  readonly keyAlgorithm: string;
  readonly keySize: number | undefined;
  readonly isCA: boolean;
  readonly addedAt: Date;
  /** Where it came from, e.g. `file:/home/a/alice.pem`, `mail:/x.eml`, `peer:phone`. */
  readonly source: string;
  readonly lastUsedAt: Date | undefined;
  readonly useCount: number;
  readonly label: string | undefined;
  readonly pinned: boolean;
  /** Name of an address-book contact sharing an e-mail address, when there is one. */
  readonly contactName: string | undefined;
  /** What to call it: the label, else the contact's name, else the common name or subject. */
  readonly displayName: string;
  /** Lamport clock and origin store of its last synced change. */
  readonly clock: number;
  readonly origin: Uint8Array;
}

/** Columns for {@link recordFromRow}, reading table `c` (certificates). */
export const RECORD_COLUMNS = `
  c.id, c.fingerprint, c.subject, c.issuer, c.common_name, c.serial, c.not_before,
  c.not_after, c.key_algorithm, c.key_size, c.is_ca, c.added_at, c.source, c.last_used_at,
  c.use_count, c.label, c.pinned, c.clock, c.origin,
  (SELECT group_concat(e.email, ' ') FROM certificate_emails e
     WHERE e.fingerprint = c.fingerprint) AS emails,
  (SELECT min(k.name) FROM certificate_emails e JOIN contacts k ON k.email = e.email
     WHERE e.fingerprint = c.fingerprint) AS contact_name`;

/** The row shape {@link RECORD_COLUMNS} selects. */
export interface RecordRow {
  id: number;
  fingerprint: Buffer;
  subject: string;
  issuer: string;
  common_name: string | null;
  serial: string;
  not_before: number;
  not_after: number;
  key_algorithm: string;
  key_size: number | null;
  is_ca: number;
  added_at: number;
  source: string;
  last_used_at: number | null;
  use_count: number;
  label: string | null;
  pinned: number;
  clock: number;
  origin: Buffer;
  emails: string | null;
  contact_name: string | null;
}

/** Turns a selected row into a record. */
export function recordFromRow(row: RecordRow): CertificateRecord {
  const fingerprint = new Uint8Array(row.fingerprint);
  const contactName = row.contact_name ?? undefined;
  const commonName = row.common_name ?? undefined;
  return {
    fingerprint,
    fingerprintHex: toHex(fingerprint),
    position: row.id,
    subject: row.subject,
    issuer: row.issuer,
    commonName,
    serialHex: row.serial,
    notBefore: new Date(row.not_before),
    notAfter: new Date(row.not_after),
    emails: row.emails ? row.emails.split(' ').sort() : [],
    keyAlgorithm: row.key_algorithm,
    keySize: row.key_size ?? undefined,
    isCA: row.is_ca === 1,
    addedAt: new Date(row.added_at),
    source: row.source,
    lastUsedAt: row.last_used_at === null ? undefined : new Date(row.last_used_at),
    useCount: row.use_count,
    label: row.label ?? undefined,
    pinned: row.pinned === 1,
    contactName,
    displayName: row.label ?? contactName ?? commonName ?? row.subject,
    clock: row.clock,
    origin: new Uint8Array(row.origin),
  };
}
