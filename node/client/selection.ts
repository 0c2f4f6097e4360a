/**
 * Choosing certificates by what a user knows of them: a fingerprint (a hex prefix, colons
 * allowed), a subject (any part of the subject name, case-insensitive), an e-mail address,
 * or the name of an address-book contact. The same rules pick from the own store and from a
 * peer's listing, so `push` and `pull` read alike.
 */
import type { ListEntry } from '../../protocol/messages/records.ts';
import { hexOf } from '../../protocol/wire/hex.ts';
import type { CertificateRecord } from '../store/index.ts';

/** What to select; items matching any one criterion are selected. */
export interface Selection {
  readonly fingerprints: readonly string[];
  readonly subjects: readonly string[];
  readonly emails: readonly string[];
  readonly contacts: readonly string[];
  /** Everything. */
  readonly all: boolean;
}

/** Selects nothing. */
export const NOTHING: Selection = Object.freeze({
  fingerprints: [],
  subjects: [],
  emails: [],
  contacts: [],
  all: false,
});

/** The fields a selection looks at. */
interface Selectable {
  readonly hex: string;
  readonly subject: string;
  readonly emails: readonly string[];
  readonly contact: string | undefined;
  readonly label: string | undefined;
}

/** True when the selection names at least one criterion. */
export function selectsAnything(s: Selection): boolean {
  return (
    s.all || s.fingerprints.length + s.subjects.length + s.emails.length + s.contacts.length > 0
  );
}

function matches(s: Selection, x: Selectable): boolean {
  if (s.all) return true;
  const lower = (t: string): string => t.toLowerCase();
  if (s.fingerprints.some((f) => x.hex.startsWith(lower(f.replace(/:/g, ''))))) return true;
  if (s.subjects.some((p) => lower(x.subject).includes(lower(p)))) return true;
  if (s.emails.some((e) => x.emails.includes(lower(e)))) return true;
  return s.contacts.some((c) => [x.contact, x.label].some((n) => n && lower(n) === lower(c)));
}

/** The own certificates the selection names, in the order given. */
export function selectRecords(
  s: Selection,
  records: readonly CertificateRecord[],
): CertificateRecord[] {
  return records.filter((r) =>
    matches(s, {
      hex: r.fingerprintHex,
      subject: r.subject,
      emails: r.emails,
      contact: r.contactName,
      label: r.label,
    }),
  );
}

/**
 * The peer's listed items the selection names, in the order given. Private keys a peer lists
 * are never selected: a key is fetched only by `pull --private-key`, alone.
 */
export function selectEntries(s: Selection, entries: readonly ListEntry[]): ListEntry[] {
  return entries.filter(
    (e) =>
      e.kind !== 'key' &&
      matches(s, {
        hex: hexOf(e.id),
        subject: e.subject,
        emails: e.emails.map((m) => m.toLowerCase()),
        contact: e.contact,
        label: e.label,
      }),
  );
}
