/**
 * Signs many certificates quickly, for the store benchmark and for property tests over
 * random issuer graphs: spawning openssl ten thousand times would dominate the run. The DER is
 * assembled here and signed with Node's crypto using the CA's key; openssl reads the result
 * (see fast-leaves.test.ts), so it is a real certificate, not a look-alike.
 */
import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  type KeyObject,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { derLength, splitCertificate, type LabCert } from './chain-lab.ts';
import { childrenOf } from './der-edits.ts';

function tlv(tag: number, ...parts: Uint8Array[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

const oid = (dotted: string): Buffer => {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [(a as number) * 40 + (b as number)];
  for (const n of rest) {
    const chunk = [n & 0x7f];
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128))
      chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
};

function utcTime(d: Date): Buffer {
  const s = d.toISOString().replace(/[-:T]/g, '').slice(2, 14);
  return tlv(0x17, Buffer.from(`${s}Z`, 'latin1'));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return tlv(
    0x30,
    oid(id),
    ...(critical ? [Buffer.from([0x01, 0x01, 0xff])] : []),
    tlv(0x04, value),
  );
}

/** A CA ready to sign leaves fast: its subject DER, key identifier and private key. */
export interface FastIssuer {
  readonly subject: Uint8Array;
  readonly keyId: Uint8Array;
  readonly key: KeyObject;
}

/** Loads `ca` (an EC P-256 CA from the lab) for {@link signLeaf}. */
export async function fastIssuer(ca: LabCert): Promise<FastIssuer> {
  const tbs = childrenOf(splitCertificate(ca.der).tbs);
  const offset = tbs[0]?.[0] === 0xa0 ? 1 : 0;
  const subject = tbs[offset + 4] as Uint8Array;
  const spki = tbs[offset + 5] as Uint8Array;
  const bits = childrenOf(spki)[1] as Uint8Array;
  const keyId = createHash('sha1').update(bits.subarray(3)).digest();
  return { subject, keyId, key: createPrivateKey(await readFile(ca.keyPath, 'utf8')) };
}

/** A pool of P-256 public keys (SPKI DER) for leaves; keys are reused across leaves. */
export function leafKeys(count: number): Uint8Array[] {
  return Array.from({ length: count }, () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
  });
}

/** A CA made in-process: what {@link signCertificate} needs to issue under it. */
export interface FastCa extends FastIssuer {
  /** Its public key, SPKI DER. */
  readonly spki: Uint8Array;
}

/** The DER of a name with one common name. */
export function commonName(cn: string): Uint8Array {
  return tlv(0x30, tlv(0x31, tlv(0x30, oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn)))));
}

/** A new P-256 key pair with `cn` as its CA name, for certificates made without openssl. */
export function fastCa(cn: string): FastCa {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
  const bits = childrenOf(spki)[1] as Uint8Array;
  const keyId = createHash('sha1').update(bits.subarray(3)).digest();
  return { subject: commonName(cn), keyId, key: privateKey, spki };
}

/** What {@link signCertificate} puts in a certificate. */
export interface FastCertificate {
  /** Subject name DER (see {@link commonName}). */
  readonly subject: Uint8Array;
  readonly spki: Uint8Array;
  /** A CA certificate (cA true, keyCertSign) or an S/MIME end-entity one. */
  readonly ca: boolean;
  /** rfc822Name for an end-entity certificate. */
  readonly email?: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/**
 * A DER certificate under `issuer`, ECDSA-with-SHA256, with basic constraints, key usage,
 * AKI and SKI (the SKI being SHA-1 of the key bits, so children's AKIs match), and for an
 * end entity emailProtection and the address. Returns the certificate and its serial (hex).
 */
export function signCertificate(
  issuer: FastIssuer,
  c: FastCertificate,
): { der: Uint8Array; serial: string } {
  const serial = randomBytes(12);
  serial[0] = ((serial[0] as number) & 0x7f) | 0x10;
  const alg = tlv(0x30, oid('1.2.840.10045.4.3.2'));
  const bits = childrenOf(c.spki)[1] as Uint8Array;
  const skiValue = createHash('sha1').update(bits.subarray(3)).digest();
  const exts = c.ca
    ? [
        extension('2.5.29.19', true, tlv(0x30, Buffer.from([0x01, 0x01, 0xff]))),
        extension('2.5.29.15', true, tlv(0x03, Buffer.from([0x01, 0x06]))),
      ]
    : [
        extension('2.5.29.19', true, tlv(0x30)),
        extension('2.5.29.15', true, tlv(0x03, Buffer.from([0x05, 0xa0]))),
        extension('2.5.29.37', false, tlv(0x30, oid('1.3.6.1.5.5.7.3.4'))),
        ...(c.email
          ? [extension('2.5.29.17', false, tlv(0x30, tlv(0x81, Buffer.from(c.email))))]
          : []),
      ];
  exts.push(extension('2.5.29.35', false, tlv(0x30, tlv(0x80, issuer.keyId))));
  exts.push(extension('2.5.29.14', false, tlv(0x04, skiValue)));
  const tbs = tlv(
    0x30,
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    tlv(0x02, serial),
    alg,
    issuer.subject,
    tlv(0x30, utcTime(c.notBefore), utcTime(c.notAfter)),
    c.subject,
    c.spki,
    tlv(0xa3, tlv(0x30, ...exts)),
  );
  const signature = sign('sha256', tbs, issuer.key);
  const der = tlv(0x30, tbs, alg, tlv(0x03, Buffer.from([0]), signature));
  return { der: new Uint8Array(der), serial: serial.toString('hex') };
}

/** An S/MIME certificate for `email` under `issuer` (see {@link signCertificate}). */
export function signLeaf(
  issuer: FastIssuer,
  spki: Uint8Array,
  email: string,
  notBefore: Date,
  notAfter: Date,
): { der: Uint8Array; serial: string } {
  return signCertificate(issuer, {
    subject: commonName(email),
    spki,
    ca: false,
    email,
    notBefore,
    notAfter,
  });
}
