/**
 * Reading certificates and CRLs out of one file's bytes, whatever its format: PEM (several
 * blocks), DER certificate or CRL, PKCS#7 bundle (DER, PEM or bare base64), or signed mail.
 * The format is recognised from the content, not the file name.
 *
 * Nothing here touches a store. Every problem is collected with the item it concerns
 * (`alice.pem block 2 (line 31)`), so the caller can report them all at once.
 */
import { CertsyncError, isCertsyncError, type ErrorCode } from '../../protocol/errors.ts';
import {
  decodePem,
  looksLikeMail,
  looksLikePem,
  looksLikePkcs7,
  parseCertificate,
  parseCrl,
  readPkcs7,
  readSignedMail,
  type ParsedCertificate,
  type ParsedCrl,
} from '../pki/index.ts';

/** Files larger than this are refused unread. */
export const MAX_IMPORT_FILE_BYTES = 64 << 20;

/** How a file was understood. */
export type FileFormat = 'pem' | 'der' | 'pkcs7' | 'mail';

/** One thing wrong with one item of a file. */
export interface ImportProblem {
  /** The file and, where it applies, the block or item, e.g. `a.pem block 2 (line 31)`. */
  readonly item: string;
  readonly code: ErrorCode;
  /** One line for a person, naming the item. */
  readonly message: string;
}

/** Everything read from one file. */
export interface FileContents {
  readonly file: string;
  readonly format: FileFormat | undefined;
  readonly certificates: readonly ParsedCertificate[];
  readonly crls: readonly ParsedCrl[];
  /** Items recognised and deliberately left out, e.g. `a.pem block 3: PRIVATE KEY`. */
  readonly skipped: readonly string[];
  readonly problems: readonly ImportProblem[];
}

const CERT_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE']);
const CRL_LABELS = new Set(['X509 CRL']);
const BUNDLE_LABELS = new Set(['PKCS7', 'CMS', 'CERTIFICATE CHAIN']);

class Collector {
  readonly certificates: ParsedCertificate[] = [];
  readonly crls: ParsedCrl[] = [];
  readonly skipped: string[] = [];
  readonly problems: ImportProblem[] = [];

  attempt(item: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      if (!isCertsyncError(error)) throw error;
      this.problems.push({ item, code: error.code, message: error.message });
    }
  }

  bundle(der: Uint8Array, item: string): void {
    const contents = readPkcs7(der, item);
    contents.certificates.forEach((c, i) => {
      const what = `${item} certificate ${i + 1}`;
      this.attempt(what, () => this.certificates.push(parseCertificate(c, what)));
    });
    contents.crls.forEach((c, i) => {
      const what = `${item} CRL ${i + 1}`;
      this.attempt(what, () => this.crls.push(parseCrl(c, what)));
    });
    if (contents.skipped) this.skipped.push(`${item}: ${contents.skipped} other entries`);
  }

  /** A lone DER element: a bundle, a CRL, or a certificate. */
  der(der: Uint8Array, item: string): void {
    if (looksLikePkcs7(der)) return this.bundle(der, item);
    if (looksLikeCrl(der)) {
      this.crls.push(parseCrl(der, item));
      return;
    }
    this.certificates.push(parseCertificate(der, item));
  }
}

/**
 * A CertificateList's tbs has a Time right after the issuer Name, where a certificate's has a
 * Validity SEQUENCE (RFC 5280 5.1 vs 4.1): look at the tbs's direct children.
 */
function looksLikeCrl(der: Uint8Array): boolean {
  // Read TLV headers by hand: this runs before any parser has judged the bytes.
  let at = 0;
  const header = (): { tag: number; len: number } | undefined => {
    const tag = der[at++];
    let len = der[at++];
    if (tag === undefined || len === undefined) return undefined;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n > 4) return undefined;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + (der[at++] ?? 0);
    }
    return { tag, len };
  };
  if (header()?.tag !== 0x30) return false;
  const tbs = header();
  if (tbs?.tag !== 0x30) return false;
  const end = at + tbs.len;
  for (let i = 0; i < 4 && at < end; i++) {
    const child = header();
    if (!child) return false;
    if (child.tag === 0x17 || child.tag === 0x18) return true; // UTCTime, GeneralizedTime
    at += child.len;
  }
  return false;
}

function isBareBase64(bytes: Uint8Array): boolean {
  if (bytes.length < 16) return false;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const compact = text.replace(/\s+/g, '');
  return compact.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(compact);
}

/**
 * Reads every certificate and CRL in `bytes` (the content of file `file`). Never throws for
 * bad content: each problem is returned in `problems`, naming the item.
 */
export function readCertificateFile(bytes: Uint8Array, file: string): FileContents {
  const c = new Collector();
  let format: FileFormat | undefined;
  if (bytes.length > MAX_IMPORT_FILE_BYTES) {
    c.problems.push({
      item: file,
      code: 'bad-input',
      message: `${file}: ${bytes.length} bytes, over the ${MAX_IMPORT_FILE_BYTES}-byte limit`,
    });
  } else if (bytes.length === 0) {
    c.problems.push({ item: file, code: 'bad-input', message: `${file}: the file is empty` });
  } else if (looksLikePem(bytes)) {
    format = 'pem';
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
    c.attempt(file, () => {
      for (const block of decodePem(text, file)) {
        const item = `${file} block ${block.index} (line ${block.line})`;
        c.attempt(item, () => {
          if (!block.der) {
            const code = CRL_LABELS.has(block.label) ? 'bad-crl' : 'bad-certificate';
            throw new CertsyncError(code, `${item}: ${block.problem ?? 'broken'}`);
          }
          if (CERT_LABELS.has(block.label)) c.certificates.push(parseCertificate(block.der, item));
          else if (CRL_LABELS.has(block.label)) c.crls.push(parseCrl(block.der, item));
          else if (BUNDLE_LABELS.has(block.label)) c.bundle(block.der, item);
          else c.skipped.push(`${item}: ${block.label}`);
        });
      }
    });
  } else if (looksLikeMail(bytes)) {
    format = 'mail';
    c.attempt(file, () => {
      const contents = readSignedMail(bytes, file);
      contents.certificates.forEach((der, i) => {
        const item = `${file} signature certificate ${i + 1}`;
        c.attempt(item, () => c.certificates.push(parseCertificate(der, item)));
      });
      contents.crls.forEach((der, i) => {
        const item = `${file} signature CRL ${i + 1}`;
        c.attempt(item, () => c.crls.push(parseCrl(der, item)));
      });
    });
  } else if (isBareBase64(bytes)) {
    format = 'pkcs7';
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
    c.attempt(file, () =>
      c.der(new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'base64')), file),
    );
  } else if (bytes[0] !== 0x30) {
    c.problems.push({
      item: file,
      code: 'bad-input',
      message: `${file}: not a certificate, CRL, PKCS#7 bundle or signed mail`,
    });
  } else {
    format = looksLikePkcs7(bytes) ? 'pkcs7' : 'der';
    c.attempt(file, () => c.der(bytes, file));
  }
  if (format && c.problems.length === 0 && c.certificates.length + c.crls.length === 0) {
    c.problems.push({
      item: file,
      code: 'bad-input',
      message: `${file}: holds no certificate or CRL${c.skipped.length ? ` (only ${c.skipped.join('; ')})` : ''}`,
    });
  }
  return { file, format, ...c };
}
