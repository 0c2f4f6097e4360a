/**
 * Listing lines (spec/protocol.md, "list-entry") from store records, clipped to the wire's
 * text limits so that a long subject never makes a listing fail.
 */
import { MAX_EMAILS, MAX_NAME_BYTES, type ListEntry } from '../../protocol/messages/records.ts';
import type { CertificateRecord, CrlRecord } from '../store/index.ts';

const encoder = new TextEncoder();

/** `text` cut to at most `maxBytes` of UTF-8, never inside a character. */
export function clipUtf8(text: string, maxBytes = MAX_NAME_BYTES): string {
  if (encoder.encode(text).length <= maxBytes) return text;
  let out = '';
  let used = 0;
  for (const ch of text) {
    const n = encoder.encode(ch).length;
    if (used + n > maxBytes) break;
    out += ch;
    used += n;
  }
  return out;
}

/** The listing line of a stored certificate whose DER is `size` bytes. */
export function listEntryOf(r: CertificateRecord, size: number): ListEntry {
  return {
    id: r.fingerprint,
    kind: 'cert',
    subject: clipUtf8(r.subject),
    issuer: clipUtf8(r.issuer),
    emails: r.emails.slice(0, MAX_EMAILS).filter((e) => encoder.encode(e).length <= 320),
    notBefore: r.notBefore.getTime(),
    notAfter: r.notAfter.getTime(),
    ...(r.label !== undefined ? { label: clipUtf8(r.label) } : {}),
    ...(r.contactName !== undefined ? { contact: clipUtf8(r.contactName) } : {}),
    pinned: r.pinned,
    useCount: r.useCount,
    addedAt: r.addedAt.getTime(),
    ...(r.lastUsedAt ? { lastUsedAt: r.lastUsedAt.getTime() } : {}),
    size,
  };
}

/** The listing line of a stored CRL whose DER is `size` bytes. */
export function crlEntryOf(c: CrlRecord, size: number): ListEntry {
  return {
    id: c.fingerprint,
    kind: 'crl',
    subject: clipUtf8(c.issuer),
    issuer: clipUtf8(c.issuer),
    emails: [],
    notBefore: c.thisUpdate.getTime(),
    notAfter: c.nextUpdate ? c.nextUpdate.getTime() : 0,
    pinned: false,
    useCount: 0,
    addedAt: c.addedAt.getTime(),
    size,
  };
}

/** The name a person sees for a listed item: label, contact, common name, subject. */
export function displayName(e: ListEntry): string {
  if (e.label) return e.label;
  if (e.contact) return e.contact;
  const cn = /(?:^|,\s*)CN=([^,]+)/.exec(e.subject);
  return cn?.[1] ?? e.subject;
}
