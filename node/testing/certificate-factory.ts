/**
 * Many distinct, realistic certificates quickly: one template certificate made by openssl,
 * copied with a different serial number and a different counter in its names. For property
 * tests and benchmarks that need hundreds or 100,000 certificates.
 *
 * The copies parse like the template (same structure and size) but their signatures no
 * longer verify: use them where the store is under test, never where validation is.
 */
import { OpensslPki, type TestCertificate } from './openssl-pki.ts';

/** The counter text in the template's names, replaced by each copy's number. */
export const TEMPLATE_COUNTER = '0000000000';

/** Makes the template: an RSA-2048 leaf (about 1 kB) whose names carry the counter text. */
export async function makeTemplateCertificate(pki: OpensslPki): Promise<TestCertificate> {
  const root = await pki.root('Factory Root');
  return pki.leaf(`User ${TEMPLATE_COUNTER}`, root, {
    keyType: 'rsa',
    email: `user${TEMPLATE_COUNTER}@example.org`,
    organization: 'certsync benchmark',
  });
}

function serialSpan(der: Uint8Array): { at: number; len: number } {
  let at = 0;
  const header = (): { tag: number; len: number } => {
    const tag = der[at++] ?? 0;
    let len = der[at++] ?? 0;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + (der[at++] ?? 0);
    }
    return { tag, len };
  };
  header(); // Certificate
  header(); // TBSCertificate
  let field = header();
  if (field.tag === 0xa0) {
    at += field.len; // [0] version
    field = header();
  }
  if (field.tag !== 0x02) throw new Error('template: no serial INTEGER where expected');
  return { at, len: field.len };
}

/** Copies of one template certificate, each distinct. */
export class CertificateFactory {
  private readonly template: Uint8Array;
  private readonly serial: { at: number; len: number };
  private readonly counters: number[];

  /**
   * @throws Error when the template lacks the counter text or a serial of at least 8 bytes
   */
  constructor(template: Uint8Array) {
    this.template = template;
    this.serial = serialSpan(template);
    if (this.serial.len < 8) throw new Error('template: serial shorter than 8 bytes');
    const marker = Buffer.from(TEMPLATE_COUNTER, 'ascii');
    const counters: number[] = [];
    const bytes = Buffer.from(template);
    for (let i = bytes.indexOf(marker); i >= 0; i = bytes.indexOf(marker, i + 1)) counters.push(i);
    if (counters.length === 0) throw new Error(`template: no ${TEMPLATE_COUNTER} in its names`);
    this.counters = counters;
  }

  /** The DER of copy number `n` (0 <= n < 10^10): serial n+1, names carrying n. */
  make(n: number): Uint8Array {
    if (!(Number.isSafeInteger(n) && n >= 0 && n < 1e10)) {
      throw new RangeError(`expected a copy number from 0 to 9999999999, got ${n}`);
    }
    const der = this.template.slice();
    const { at, len } = this.serial;
    // A positive serial: first byte 0x01 keeps the INTEGER minimal and non-negative.
    der.fill(0, at, at + len);
    der[at] = 0x01;
    let v = n + 1;
    for (let i = at + len - 1; i > at && v > 0; i--) {
      der[i] = v % 256;
      v = Math.floor(v / 256);
    }
    const digits = Buffer.from(String(n).padStart(TEMPLATE_COUNTER.length, '0'), 'ascii');
    for (const c of this.counters) der.set(digits, c);
    return der;
  }
}
