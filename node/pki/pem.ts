/**
 * PEM armour (RFC 7468): finding the blocks in a text file and writing them.
 *
 * Decoding is lenient where real files are (text between blocks, CRLF line ends, RFC 1421
 * style header lines) and strict where it matters: every block must end with the matching
 * END line and hold valid base64, or it is reported as broken. A broken block never stops
 * the other blocks from being read; the caller decides what a broken block means.
 */
import { CertsyncError } from '../../protocol/errors.ts';

/** One `-----BEGIN X-----` ... `-----END X-----` block found in a text. */
export interface PemBlock {
  /** 1-based position of the block in the file. */
  readonly index: number;
  /** 1-based line of the BEGIN line. */
  readonly line: number;
  /** The label, e.g. `CERTIFICATE`, `X509 CRL`, `PKCS7`. */
  readonly label: string;
  /** The decoded bytes, or undefined when the block is broken. */
  readonly der?: Uint8Array;
  /** Why the block is broken (for a person), when it is. */
  readonly problem?: string;
}

/** At most this many blocks are read from one text; more is refused as hostile. */
export const MAX_PEM_BLOCKS = 200_000;

const BEGIN = /^-----BEGIN ([A-Z0-9 ]{1,64})-----\s*$/;
const END = /^-----END ([A-Z0-9 ]{1,64})-----\s*$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** True when `text` holds at least one PEM BEGIN line. */
export function looksLikePem(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return head.includes('-----BEGIN ');
}

/**
 * Every PEM block in `text`, in order, each either decoded or with the reason it is broken
 * (no END line, a different END label, bad base64, empty). Text outside blocks is ignored.
 *
 * @param what names the text in errors, e.g. the file it came from
 * @throws CertsyncError `bad-input` naming `what` when the text holds more than
 *   {@link MAX_PEM_BLOCKS} blocks
 */
export function decodePem(text: string, what = 'PEM text'): PemBlock[] {
  const lines = text.split(/\r?\n/);
  const blocks: PemBlock[] = [];
  let i = 0;
  while (i < lines.length) {
    const begin = BEGIN.exec(lines[i] ?? '');
    if (!begin) {
      i++;
      continue;
    }
    const label = begin[1] ?? '';
    const index = blocks.length + 1;
    if (index > MAX_PEM_BLOCKS) {
      throw new CertsyncError('bad-input', `${what}: more than ${MAX_PEM_BLOCKS} PEM blocks`);
    }
    const line = i + 1;
    const body: string[] = [];
    let problem: string | undefined = 'no END line before the end of the file';
    let j = i + 1;
    for (; j < lines.length; j++) {
      const l = lines[j] ?? '';
      const end = END.exec(l);
      if (end) {
        problem = end[1] === label ? undefined : `ends with END ${end[1]} instead of ${label}`;
        break;
      }
      if (BEGIN.test(l)) {
        problem = 'a new BEGIN line before its END line';
        j--;
        break;
      }
      // RFC 1421 headers (e.g. Proc-Type) precede the base64; they carry no certificate data.
      if (body.length === 0 && /^[A-Za-z-]+:/.test(l)) continue;
      body.push(l.trim());
    }
    i = j + 1;
    if (problem) {
      blocks.push({ index, line, label, problem });
      continue;
    }
    const b64 = body.join('');
    if (b64.length === 0) {
      blocks.push({ index, line, label, problem: 'the block is empty' });
    } else if (!BASE64.test(b64) || b64.length % 4 !== 0) {
      blocks.push({ index, line, label, problem: 'the block is not valid base64' });
    } else {
      blocks.push({ index, line, label, der: new Uint8Array(Buffer.from(b64, 'base64')) });
    }
  }
  return blocks;
}

/** PEM text of `der` under `label`, 64 base64 characters a line, ending in a newline. */
export function encodePem(label: string, der: Uint8Array): string {
  if (!/^[A-Z0-9 ]{1,64}$/.test(label)) {
    throw new TypeError(`expected a PEM label of capitals, digits and spaces, got ${label}`);
  }
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
