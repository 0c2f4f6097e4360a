/**
 * Signed mail (S/MIME 4.0, RFC 8551): finding the signature of a received message and taking
 * the certificates attached to it, as a mail client does on receipt.
 *
 * Two shapes are read (RFC 8551 3.5): multipart/signed whose signature part is
 * application/pkcs7-signature (or the older x-pkcs7-signature), and opaque
 * application/pkcs7-mime with smime-type signed-data. A signed entity nested in
 * multipart/mixed or multipart/alternative (as list servers produce) is found too;
 * attached messages (message/rfc822) are not searched, since their signatures are not the
 * sender's.
 *
 * The signature itself is not verified here: the certificates are taken as offered, and
 * their validity is judged by the validator before they are trusted or passed on.
 */
import { CertsyncError } from '../../protocol/errors.ts';
import { readPkcs7, type Pkcs7Contents } from './pkcs7.ts';

/** Mail larger than this is refused before parsing. */
export const MAX_MAIL_BYTES = 64 << 20;
/** Multiparts nest at most this deep. */
export const MAX_MIME_DEPTH = 16;
/** At most this many MIME parts are looked at in one mail. */
export const MAX_MIME_PARTS = 2000;

interface Entity {
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
}

interface ContentType {
  readonly type: string;
  readonly params: ReadonlyMap<string, string>;
}

/** True when `bytes` begin with RFC 5322 header lines typical of a mail. */
export function looksLikeMail(bytes: Uint8Array): boolean {
  const start = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 65536));
  const text = start.toString('latin1');
  const head = text.split(/\r?\n\r?\n/, 1)[0] ?? '';
  return (
    /^[\x21-\x39\x3b-\x7e]+:/.test(text) &&
    /^(content-type|mime-version|from|subject|received|date):/im.test(head)
  );
}

function parseEntity(text: string): Entity {
  const split = /\r?\n\r?\n/.exec(text);
  const headText = split ? text.slice(0, split.index) : text;
  const body = split ? text.slice(split.index + split[0].length) : '';
  const headers = new Map<string, string>();
  // Unfold continuation lines (RFC 5322 2.2.3), then keep the first of each header.
  for (const line of headText.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return { headers, body };
}

/** `text` cut at every `;` outside a quoted string (RFC 2045 5.1), in one pass. */
function splitParameters(text: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (c === ';' && !quoted) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

/** A parameter value: a quoted string without its quotes and escapes, or a token. */
function parameterValue(text: string): string {
  if (!text.startsWith('"')) return text.split(/[\s;]/, 1)[0] ?? '';
  let out = '';
  for (let i = 1; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '"') break;
    out += c === '\\' && i + 1 < text.length ? (text[++i] as string) : c;
  }
  return out;
}

/**
 * The type and parameters of an entity's Content-Type. Read in one pass per parameter: a
 * global regular expression over the parameters takes quadratic time on a long header of
 * one word, which a crafted mail can make megabytes long.
 */
function contentType(entity: Entity): ContentType {
  const raw = entity.headers.get('content-type') ?? 'text/plain';
  const [type = '', ...rest] = splitParameters(raw);
  const params = new Map<string, string>();
  for (const part of rest) {
    const eq = part.indexOf('=');
    const key = part
      .slice(0, eq < 0 ? 0 : eq)
      .trim()
      .toLowerCase();
    if (!/^[\w.-]+$/.test(key)) continue;
    params.set(key, parameterValue(part.slice(eq + 1).trim()));
  }
  return { type: type.trim().toLowerCase(), params };
}

function splitMultipart(body: string, boundary: string): string[] {
  const parts: string[] = [];
  const delimiter = `--${boundary}`;
  let current: string[] | undefined;
  for (const line of body.split(/\r?\n/)) {
    const trimmed = line.trimEnd();
    if (trimmed === `${delimiter}--`) break;
    if (trimmed === delimiter) {
      if (current) parts.push(current.join('\r\n'));
      current = [];
      if (parts.length > MAX_MIME_PARTS) break;
    } else {
      current?.push(line);
    }
  }
  if (current) parts.push(current.join('\r\n'));
  return parts;
}

function decodeBody(entity: Entity, what: string): Uint8Array {
  const encoding = (entity.headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  if (encoding === 'base64') {
    const b64 = entity.body.replace(/[\s]+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) {
      throw new CertsyncError('bad-mail', `${what}: the S/MIME signature is not valid base64`);
    }
    return new Uint8Array(Buffer.from(b64, 'base64'));
  }
  if (encoding === '7bit' || encoding === '8bit' || encoding === 'binary') {
    return new Uint8Array(Buffer.from(entity.body, 'latin1'));
  }
  throw new CertsyncError('bad-mail', `${what}: signature encoded as ${encoding}, not base64`);
}

const SIGNATURE_TYPES = new Set(['application/pkcs7-signature', 'application/x-pkcs7-signature']);
const OPAQUE_TYPES = new Set(['application/pkcs7-mime', 'application/x-pkcs7-mime']);

interface Search {
  readonly what: string;
  readonly found: Uint8Array[];
  readonly seen: string[];
  parts: number;
}

function walk(entity: Entity, depth: number, search: Search): void {
  if (++search.parts > MAX_MIME_PARTS) {
    throw new CertsyncError('bad-mail', `${search.what}: more than ${MAX_MIME_PARTS} MIME parts`);
  }
  const ct = contentType(entity);
  search.seen.push(ct.type);
  if (SIGNATURE_TYPES.has(ct.type)) {
    search.found.push(decodeBody(entity, search.what));
    return;
  }
  if (OPAQUE_TYPES.has(ct.type)) {
    const smimeType = ct.params.get('smime-type')?.toLowerCase();
    // Without smime-type the content decides (RFC 8551 3.2.2); readPkcs7 refuses non-signed.
    if (smimeType === undefined || smimeType === 'signed-data') {
      search.found.push(decodeBody(entity, search.what));
    }
    return;
  }
  if (!ct.type.startsWith('multipart/')) return;
  if (depth >= MAX_MIME_DEPTH) {
    throw new CertsyncError('bad-mail', `${search.what}: MIME parts nest over ${MAX_MIME_DEPTH}`);
  }
  const boundary = ct.params.get('boundary');
  if (!boundary) {
    throw new CertsyncError('bad-mail', `${search.what}: ${ct.type} without a boundary`);
  }
  for (const part of splitMultipart(entity.body, boundary)) {
    walk(parseEntity(part), depth + 1, search);
  }
}

/**
 * The certificates and CRLs attached to the S/MIME signature(s) of a mail (.eml bytes).
 *
 * @param what names the mail in error messages
 * @throws CertsyncError `bad-mail` when the mail has no S/MIME signature, the signature does
 *   not decode, or it carries no certificates; the message says which
 */
export function readSignedMail(bytes: Uint8Array, what = 'mail'): Pkcs7Contents {
  if (bytes.length > MAX_MAIL_BYTES) {
    throw new CertsyncError('bad-mail', `${what}: over the ${MAX_MAIL_BYTES}-byte limit`);
  }
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const search: Search = { what, found: [], seen: [], parts: 0 };
  walk(parseEntity(text), 0, search);
  if (search.found.length === 0) {
    const kinds = [...new Set(search.seen)].join(', ');
    throw new CertsyncError('bad-mail', `${what}: no S/MIME signature (the mail holds ${kinds})`);
  }
  const certificates: Uint8Array[] = [];
  const crls: Uint8Array[] = [];
  let skipped = 0;
  for (const der of search.found) {
    let contents: Pkcs7Contents;
    try {
      contents = readPkcs7(der, `${what} signature`);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new CertsyncError('bad-mail', reason, { cause: error });
    }
    certificates.push(...contents.certificates);
    crls.push(...contents.crls);
    skipped += contents.skipped;
  }
  if (certificates.length === 0) {
    throw new CertsyncError('bad-mail', `${what}: the S/MIME signature carries no certificates`);
  }
  return { certificates, crls, skipped };
}
