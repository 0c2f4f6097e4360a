/**
 * Builds the bad chains the validator's tests need with the `openssl` CLI, at test time, in
 * a temporary folder that {@link ChainLab.cleanup} removes. Unlike the shared test PKI, every
 * certificate here takes its extensions verbatim (so a test can give a CA a path length,
 * name constraints, an unknown critical extension, or no CA flag at all), any key type
 * including refused ones (RSA 1024, P-192, DSA), any digest (SHA-1, MD5), and any validity
 * period. Each CA is a real `openssl ca` database, so revocation, CRLs with chosen update
 * times, and OCSP responses come from openssl as well.
 *
 * What openssl cannot write (negative or zero serials, duplicate extensions, a version 1
 * certificate carrying extensions) is made by {@link ChainLab.resign}: it edits the DER of a
 * certificate openssl wrote and signs it again with the issuer's key.
 */
import { execFile } from 'node:child_process';
import { randomBytes, sign as cryptoSign, createPrivateKey } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const DAY = 86_400_000;

/** Key types, refused ones included. */
export type LabKey = 'ec' | 'rsa' | 'rsa1024' | 'p192' | 'dsa' | 'ed25519';

/** A certificate the lab made, with its key and (for a CA) its openssl database. */
export interface LabCert {
  readonly name: string;
  readonly der: Uint8Array;
  readonly certPath: string;
  readonly keyPath: string;
  /** Set for a certificate that can issue: its `openssl ca` config. */
  readonly config?: string;
}

/** How to make a certificate. */
export interface LabCertOptions {
  /** Subject in openssl's `/K=V/...` form; default `/O=certsync lab/CN=<name>`. */
  readonly subject?: string;
  readonly key?: LabKey;
  /** Reuse an existing key (for cross-certificates: one key, two issuers). */
  readonly keyPath?: string;
  /** Extension lines, used exactly; default depends on the kind of certificate. */
  readonly ext?: readonly string[];
  /** Extension lines added to the default ones. */
  readonly extra?: readonly string[];
  /** Digest for the signature, e.g. `sha1`; default sha256 (ignored for Ed25519). */
  readonly md?: string;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

/** Default CA extensions. */
export const CA_EXT = [
  'basicConstraints = critical, CA:true',
  'keyUsage = critical, keyCertSign, cRLSign',
  'subjectKeyIdentifier = hash',
  'authorityKeyIdentifier = keyid',
];

/** Default S/MIME end-entity extensions (without the address, which `email` adds). */
export const LEAF_EXT = [
  'basicConstraints = critical, CA:false',
  'keyUsage = critical, digitalSignature, keyEncipherment',
  'extendedKeyUsage = emailProtection',
  'subjectKeyIdentifier = hash',
  'authorityKeyIdentifier = keyid',
];

function opensslTime(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

function derOfPem(pem: string): Uint8Array {
  const m = /-----BEGIN [A-Z0-9 ]+-----([\s\S]*?)-----END/.exec(pem);
  if (!m?.[1]) throw new Error(`expected PEM, got ${pem.slice(0, 60)}`);
  return new Uint8Array(Buffer.from(m[1].replace(/\s+/g, ''), 'base64'));
}

/** A temporary folder of openssl-made certificates; see the module comment. */
export class ChainLab {
  private n = 0;
  private constructor(readonly dir: string) {}

  /** A new lab in a fresh temporary folder. */
  static async create(): Promise<ChainLab> {
    return new ChainLab(await mkdtemp(join(tmpdir(), 'certsync-chains-')));
  }

  /** Runs openssl in the lab folder; rejects with its stderr. */
  async openssl(args: readonly string[], input?: Uint8Array): Promise<Buffer> {
    try {
      const child = run('openssl', [...args], {
        cwd: this.dir,
        encoding: 'buffer',
        maxBuffer: 64 << 20,
        timeout: 60_000,
      });
      if (input) {
        child.child.stdin?.end(input);
      }
      return (await child).stdout;
    } catch (error) {
      const stderr = String((error as { stderr?: Buffer }).stderr ?? '');
      throw new Error(`openssl ${args[0]} failed: ${stderr.trim()}`, { cause: error });
    }
  }

  /** A fresh path in the lab folder. */
  path(name: string): string {
    return join(
      this.dir,
      `${String(++this.n).padStart(3, '0')}-${name.replace(/[^a-z0-9.]+/gi, '-')}`,
    );
  }

  /** Generates a private key of `kind`; returns its PEM path. */
  async key(kind: LabKey): Promise<string> {
    const out = this.path(`${kind}.key`);
    if (kind === 'dsa') {
      const params = this.path('dsa.params');
      await this.openssl([
        'genpkey',
        '-genparam',
        '-algorithm',
        'DSA',
        '-pkeyopt',
        'dsa_paramgen_bits:1024',
        '-out',
        params,
      ]);
      await this.openssl(['genpkey', '-paramfile', params, '-out', out]);
      return out;
    }
    const alg: Record<Exclude<LabKey, 'dsa'>, string[]> = {
      ec: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
      p192: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-192'],
      rsa: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
      rsa1024: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024'],
      ed25519: ['-algorithm', 'ED25519'],
    };
    await this.openssl(['genpkey', ...alg[kind], '-out', out]);
    return out;
  }

  private async caDir(name: string, certPath: string, keyPath: string): Promise<string> {
    const dir = this.path(`${name}-db`);
    await mkdir(join(dir, 'newcerts'), { recursive: true });
    await writeFile(join(dir, 'index.txt'), '');
    await writeFile(
      join(dir, 'serial'),
      `${randomBytes(8)
        .toString('hex')
        .replace(/^[89a-f]/, '1')}\n`,
    );
    await writeFile(join(dir, 'crlnumber'), '01\n');
    const config = join(dir, 'ca.cnf');
    await writeFile(
      config,
      [
        '[ ca ]',
        'default_ca = lab',
        '[ lab ]',
        `dir = ${dir}`,
        'database = $dir/index.txt',
        'new_certs_dir = $dir/newcerts',
        'serial = $dir/serial',
        'crlnumber = $dir/crlnumber',
        `certificate = ${certPath}`,
        `private_key = ${keyPath}`,
        'default_md = sha256',
        'policy = anything',
        'unique_subject = no',
        'email_in_dn = yes',
        'default_crl_days = 7',
        '[ anything ]',
        'commonName = optional',
        '[ req ]',
        'distinguished_name = dn',
        'prompt = no',
        '[ dn ]',
        'CN = unused',
        '',
      ].join('\n'),
    );
    return config;
  }

  private async make(
    name: string,
    issuer: LabCert | 'self',
    isCa: boolean,
    o: LabCertOptions,
  ): Promise<LabCert> {
    const keyPath = o.keyPath ?? (await this.key(o.key ?? 'ec'));
    const subject = o.subject ?? `/O=certsync lab/CN=${name}`;
    const certPath = this.path(`${name}.pem`);
    const config = isCa ? await this.caDir(name, certPath, keyPath) : undefined;
    const signerConfig = issuer === 'self' ? (config as string) : issuer.config;
    if (!signerConfig) throw new Error(`${issuer === 'self' ? name : issuer.name} cannot issue`);
    const csr = this.path(`${name}.csr`);
    await this.openssl([
      'req',
      '-new',
      '-config',
      signerConfig,
      '-key',
      keyPath,
      '-subj',
      subject,
      '-out',
      csr,
    ]);
    const ext = this.path(`${name}.ext`);
    const lines = o.ext ?? [...(isCa ? CA_EXT : LEAF_EXT), ...(o.extra ?? [])];
    await writeFile(ext, `[ ext ]\n${lines.join('\n')}\n`);
    const args = [
      'ca',
      '-batch',
      '-notext',
      '-preserveDN',
      '-config',
      signerConfig,
      '-in',
      csr,
      '-out',
      certPath,
    ];
    args.push('-extfile', ext, '-extensions', 'ext');
    args.push('-startdate', opensslTime(o.notBefore ?? new Date(Date.now() - DAY)));
    args.push('-enddate', opensslTime(o.notAfter ?? new Date(Date.now() + 3650 * DAY)));
    if (o.md) args.push('-md', o.md);
    if (issuer === 'self') args.push('-selfsign', '-keyfile', keyPath);
    await this.openssl(args);
    const der = derOfPem(await readFile(certPath, 'utf8'));
    return { name, der, certPath, keyPath, ...(config && { config }) };
  }

  /** A self-signed CA. */
  root(name: string, options: LabCertOptions = {}): Promise<LabCert> {
    return this.make(name, 'self', true, options);
  }

  /** A CA certificate issued by `issuer` (default CA extensions unless `ext` is given). */
  intermediate(name: string, issuer: LabCert, options: LabCertOptions = {}): Promise<LabCert> {
    return this.make(name, issuer, true, options);
  }

  /** An end-entity certificate; `email` goes into the subject alternative name. */
  leaf(
    name: string,
    issuer: LabCert,
    options: LabCertOptions & { email?: string } = {},
  ): Promise<LabCert> {
    const extra = [
      ...(options.extra ?? []),
      ...(options.email ? [`subjectAltName = email:${options.email}`] : []),
    ];
    return this.make(name, issuer, false, { ...options, extra });
  }

  /** Records `cert` as revoked in `issuer`'s database. */
  async revoke(issuer: LabCert, cert: LabCert, reason = 'keyCompromise'): Promise<void> {
    if (!issuer.config) throw new Error(`${issuer.name} is not a CA`);
    await this.openssl([
      'ca',
      '-batch',
      '-config',
      issuer.config,
      '-revoke',
      cert.certPath,
      '-crl_reason',
      reason,
    ]);
  }

  /** A DER CRL of `issuer` with chosen update times (default: now, and a week on). */
  async crl(
    issuer: LabCert,
    o: { thisUpdate?: Date; nextUpdate?: Date; ext?: readonly string[] } = {},
  ): Promise<Uint8Array> {
    if (!issuer.config) throw new Error(`${issuer.name} is not a CA`);
    const out = this.path(`${issuer.name}.crl`);
    const args = ['ca', '-batch', '-config', issuer.config, '-gencrl', '-out', out];
    args.push('-crl_lastupdate', opensslTime(o.thisUpdate ?? new Date(Date.now() - 60_000)));
    args.push('-crl_nextupdate', opensslTime(o.nextUpdate ?? new Date(Date.now() + 7 * DAY)));
    if (o.ext) {
      // `ca -gencrl` reads CRL extensions from its configuration, so extend a copy of it.
      const config = this.path('crl.cnf');
      const text = await readFile(issuer.config, 'utf8');
      await writeFile(config, `${text}\n[ crlext ]\n${o.ext.join('\n')}\n`);
      args[3] = config;
      args.push('-crlexts', 'crlext');
    }
    await this.openssl(args);
    return derOfPem(await readFile(out, 'utf8'));
  }

  /**
   * A DER OCSP response about `cert` made by `openssl ocsp` from a real request, signed by
   * `signer` (default the issuer). The status comes from `issuer`'s database, or with
   * `claimGood` from a made-up database that lists `cert` as good: together with a rogue
   * signer, that is a forged answer.
   */
  async ocspResponse(
    issuer: LabCert,
    cert: LabCert,
    o: { signer?: LabCert; ndays?: number; claimGood?: boolean; nonce?: boolean } = {},
  ): Promise<Uint8Array> {
    const req = this.path('ocsp.req');
    const resp = this.path('ocsp.resp');
    const reqArgs = ['ocsp', '-issuer', issuer.certPath, '-cert', cert.certPath, '-reqout', req];
    await this.openssl([...reqArgs, ...(o.nonce ? [] : ['-no_nonce'])]);
    const signer = o.signer ?? issuer;
    let db = issuer.config?.replace(/ca\.cnf$/, 'index.txt');
    if (!db) throw new Error(`${issuer.name} is not a CA`);
    if (o.claimGood) {
      db = this.path('claimed-index.txt');
      const serial = serialHexOf(cert.der).toUpperCase();
      await writeFile(db, `V\t491231235959Z\t\t${serial}\tunknown\t/CN=claimed\n`);
    }
    await this.openssl([
      'ocsp',
      '-index',
      db,
      '-CA',
      issuer.certPath,
      '-rsigner',
      signer.certPath,
      '-rkey',
      signer.keyPath,
      '-reqin',
      req,
      '-respout',
      resp,
      '-ndays',
      String(o.ndays ?? 1),
    ]);
    return new Uint8Array(await readFile(resp));
  }

  /**
   * Re-signs `cert` with `issuer`'s key after `edit` changed its TBSCertificate DER. The
   * signature algorithm is kept, so the issuer key must be of the same type.
   */
  async resign(
    cert: LabCert,
    issuer: LabCert,
    edit: (tbs: Uint8Array) => Uint8Array,
  ): Promise<Uint8Array> {
    const { tbs, alg } = splitCertificate(cert.der);
    const newTbs = edit(tbs);
    const key = createPrivateKey(await readFile(issuer.keyPath, 'utf8'));
    const hash = key.asymmetricKeyType === 'ed25519' ? null : 'sha256';
    const signature = cryptoSign(hash, newTbs, key);
    const bitString = Buffer.concat([
      Buffer.from([0x03]),
      derLength(signature.length + 1),
      Buffer.from([0]),
      signature,
    ]);
    const body = Buffer.concat([newTbs, alg, bitString]);
    return new Uint8Array(Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]));
  }

  /** Removes the lab folder. Safe to call twice. */
  async cleanup(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** DER length octets. */
export function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Reads one DER header at `at`: tag, header length, content length. */
export function derHeader(
  der: Uint8Array,
  at: number,
): { tag: number; header: number; length: number } {
  const tag = der[at] as number;
  let length = der[at + 1] as number;
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (der[at + 2 + i] as number);
    header += count;
  }
  return { tag, header, length };
}

/** The serial number of a certificate as hex, as openssl's index file writes it. */
export function serialHexOf(der: Uint8Array): string {
  const { tbs } = splitCertificate(der);
  let at = derHeader(tbs, 0).header;
  const first = derHeader(tbs, at);
  if (first.tag === 0xa0) at += first.header + first.length;
  const serial = derHeader(tbs, at);
  let bytes = tbs.subarray(at + serial.header, at + serial.header + serial.length);
  while (bytes.length > 1 && bytes[0] === 0) bytes = bytes.subarray(1);
  return Buffer.from(bytes).toString('hex');
}

/** Splits a certificate into its TBSCertificate DER and signature AlgorithmIdentifier DER. */
export function splitCertificate(der: Uint8Array): { tbs: Uint8Array; alg: Uint8Array } {
  const outer = derHeader(der, 0);
  const tbsHead = derHeader(der, outer.header);
  const tbsEnd = outer.header + tbsHead.header + tbsHead.length;
  const algHead = derHeader(der, tbsEnd);
  return {
    tbs: der.subarray(outer.header, tbsEnd),
    alg: der.subarray(tbsEnd, tbsEnd + algHead.header + algHead.length),
  };
}
