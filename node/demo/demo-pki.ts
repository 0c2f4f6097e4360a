/**
 * The demo's PKI, made with openssl: a root, an intermediate, a CRL, a revoked certificate
 * and its valid successor, an expired one, and a few hundred contacts. The contacts are
 * copies of one openssl-made leaf with a new serial and number in their names, signed
 * again with the intermediate's key, so that every one of them verifies; a few hundred
 * openssl runs would take most of the demo's minute.
 */
import { createPrivateKey, sign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { CertificateFactory, TEMPLATE_COUNTER } from '../testing/certificate-factory.ts';
import {
  OpensslPki,
  type TestAuthority,
  type TestCertificate,
  type TestFile,
} from '../testing/openssl-pki.ts';

const DAY = 86_400_000;

/** Everything the demo's two stores are filled from. */
export interface DemoPki {
  readonly root: TestAuthority;
  readonly intermediate: TestAuthority;
  /** Revoked by {@link DemoPki.crl}. */
  readonly revoked: TestCertificate;
  /** A valid certificate for the revoked one's subject and address. */
  readonly successor: TestCertificate;
  /** Expired last month. */
  readonly expired: TestCertificate;
  readonly crl: TestFile;
  /** DER of valid contacts, `contact0000000000@example.org` and onwards. */
  readonly contacts: readonly Uint8Array[];
  cleanup(): Promise<void>;
}

/** DER length octets for `n`. */
function lengthBytes(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v % 256);
  return [0x80 | out.length, ...out];
}

/** The start and end of the DER element at `at`. */
function element(der: Uint8Array, at: number): { start: number; body: number; end: number } {
  let i = at + 1;
  let len = der[i++] as number;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let k = 0; k < n; k++) len = len * 256 + (der[i++] as number);
  }
  return { start: at, body: i, end: i + len };
}

/**
 * `cert` with its signature made again over its (changed) to-be-signed part with `key`.
 * The signature algorithm stays the template's (ECDSA with SHA-256 for an EC key).
 */
export function resign(cert: Uint8Array, key: ReturnType<typeof createPrivateKey>): Uint8Array {
  const outer = element(cert, 0);
  const tbs = element(cert, outer.body);
  const alg = element(cert, tbs.end);
  const tbsBytes = cert.subarray(tbs.start, tbs.end);
  const signature = sign('sha256', tbsBytes, key);
  const bitString = [0x03, ...lengthBytes(signature.length + 1), 0x00];
  const bodyLength =
    tbs.end - tbs.start + (alg.end - alg.start) + bitString.length + signature.length;
  const head = [0x30, ...lengthBytes(bodyLength)];
  const out = new Uint8Array(head.length + bodyLength);
  let at = 0;
  out.set(head, at);
  at += head.length;
  out.set(tbsBytes, at);
  at += tbsBytes.length;
  out.set(cert.subarray(alg.start, alg.end), at);
  at += alg.end - alg.start;
  out.set(bitString, at);
  at += bitString.length;
  out.set(signature, at);
  return out;
}

/**
 * Builds the demo PKI with `contacts` contacts.
 *
 * @throws Error when openssl fails
 */
export async function buildDemoPki(contacts: number): Promise<DemoPki> {
  const pki = await OpensslPki.create();
  try {
    const root = await pki.root('certsync Demo Root');
    const intermediate = await pki.intermediate('certsync Demo Mail CA', root);
    const email = 'dana@example.org';
    const revoked = await pki.leaf('Dana Revoked', intermediate, { email });
    const successor = await pki.leaf('Dana Reissued', intermediate, { email });
    const expired = await pki.leaf('Eve Expired', intermediate, {
      email: 'eve@example.org',
      notBefore: new Date(Date.now() - 400 * DAY),
      notAfter: new Date(Date.now() - 30 * DAY),
    });
    await pki.revoke(intermediate, revoked);
    const crl = await pki.crl(intermediate);
    const template = await pki.leaf(`Contact ${TEMPLATE_COUNTER}`, intermediate, {
      email: `contact${TEMPLATE_COUNTER}@example.org`,
    });
    const key = createPrivateKey(await readFile(intermediate.keyPath));
    const factory = new CertificateFactory(template.der);
    const list: Uint8Array[] = [];
    for (let n = 1; n <= contacts; n++) list.push(resign(factory.make(n), key));
    return {
      root,
      intermediate,
      revoked,
      successor,
      expired,
      crl,
      contacts: list,
      cleanup: () => pki.cleanup(),
    };
  } catch (error) {
    await pki.cleanup();
    throw error;
  }
}
