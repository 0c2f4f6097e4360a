/**
 * A real PKI built with the `openssl` command line at test time, for every certsync test
 * that needs certificates, CRLs, PKCS#7 bundles or signed mail.
 *
 * Each {@link OpensslPki} lives in its own temporary folder; `cleanup()` removes it. Every
 * certificate authority is a real `openssl ca` database (index, serial, CRL number), so a
 * certificate can be revoked and a CRL generated the way a real CA does it. Validity periods
 * are set with `openssl ca -startdate/-enddate`, which gives expired and not-yet-valid
 * certificates without touching the clock.
 *
 * @example
 * const pki = await OpensslPki.create();
 * const root = await pki.root('Test Root');
 * const alice = await pki.leaf('Alice', root, { email: 'alice@example.org' });
 * const mail = await pki.signMail(alice, { chain: [root] });
 * await pki.cleanup();
 *
 * {@link buildStandardPki} makes the set most tests want in one call.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Key types the helper can generate. `ec` is P-256, `rsa` is 2048 bits. */
export type TestKeyType = 'ec' | 'rsa' | 'ed25519';

/** One certificate issued by the helper, with its private key. */
export interface TestCertificate {
  /** The name it was created under; also the common name. */
  readonly name: string;
  /** PEM file of the certificate. */
  readonly certPath: string;
  /** PEM file of the unencrypted PKCS#8 private key. */
  readonly keyPath: string;
  /** DER bytes of the certificate, as openssl wrote them. */
  readonly der: Uint8Array;
  /** PEM text of the certificate. */
  readonly pem: string;
  /** Serial number as lowercase hex without leading zero bytes. */
  readonly serialHex: string;
  /** E-mail addresses given at issue (subject and SAN). */
  readonly emails: readonly string[];
}

/** A certificate authority: a certificate plus its `openssl ca` database folder. */
export interface TestAuthority extends TestCertificate {
  readonly caDir: string;
  readonly configPath: string;
}

/** Options for {@link OpensslPki.leaf}. */
export interface LeafOptions {
  /** Address put in the subject's emailAddress and in the SAN. */
  readonly email?: string;
  /** More SAN rfc822Name addresses (not in the subject). */
  readonly altEmails?: readonly string[];
  /** Start of validity; default one day ago. */
  readonly notBefore?: Date;
  /** End of validity; default one year from now. */
  readonly notAfter?: Date;
  /** Default `ec`. */
  readonly keyType?: TestKeyType;
  /** Organisation in the subject. */
  readonly organization?: string;
  /** Extra lines for the certificate's extension section, e.g. `extendedKeyUsage = OCSPSigning`. */
  readonly extensions?: readonly string[];
}

/** A file the helper wrote, with its bytes. */
export interface TestFile {
  readonly path: string;
  readonly bytes: Uint8Array;
}

const DAY = 86_400_000;

/** openssl's time format for `ca -startdate/-enddate`: YYYYMMDDHHMMSSZ. */
function opensslTime(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

function pemToDer(pem: string): Uint8Array {
  const body = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(pem);
  if (!body?.[1]) throw new Error(`openssl wrote no certificate: ${pem.slice(0, 80)}`);
  return new Uint8Array(Buffer.from(body[1].replace(/\s+/g, ''), 'base64'));
}

function serialOf(der: Uint8Array): string {
  // Certificate ::= SEQUENCE { tbs SEQUENCE { [0] version, serial INTEGER, ... } }: walk the
  // first few headers by hand so the helper depends on nothing under test.
  let at = 0;
  const header = (): { len: number; tag: number } => {
    const tag = der[at++] ?? 0;
    let len = der[at++] ?? 0;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + (der[at++] ?? 0);
    }
    return { len, tag };
  };
  header();
  header();
  let serial = header();
  if (serial.tag === 0xa0) {
    at += serial.len;
    serial = header();
  }
  let bytes = der.subarray(at, at + serial.len);
  while (bytes.length > 1 && bytes[0] === 0) bytes = bytes.subarray(1);
  return Buffer.from(bytes).toString('hex');
}

function caConfig(dir: string): string {
  return [
    '[ ca ]',
    'default_ca = this_ca',
    '[ this_ca ]',
    `dir = ${dir}`,
    'database = $dir/index.txt',
    'new_certs_dir = $dir/newcerts',
    'serial = $dir/serial',
    'crlnumber = $dir/crlnumber',
    'private_key = $dir/ca.key',
    'certificate = $dir/ca.pem',
    'default_md = sha256',
    'policy = policy_any',
    'unique_subject = no',
    'email_in_dn = yes',
    'default_days = 365',
    'default_crl_days = 30',
    '[ policy_any ]',
    'countryName = optional',
    'stateOrProvinceName = optional',
    'localityName = optional',
    'organizationName = optional',
    'organizationalUnitName = optional',
    'commonName = supplied',
    'emailAddress = optional',
    '[ req ]',
    'distinguished_name = req_dn',
    'prompt = no',
    '[ req_dn ]',
    'CN = unused',
    '',
  ].join('\n');
}

/** A temporary PKI driven through the openssl CLI. See the module comment. */
export class OpensslPki {
  /** The temporary folder holding every file of this PKI. */
  readonly dir: string;
  private counter = 0;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** Makes a new empty PKI in a fresh temporary folder. Throws if openssl is missing. */
  static async create(): Promise<OpensslPki> {
    const dir = await mkdtemp(join(tmpdir(), 'certsync-pki-'));
    return new OpensslPki(dir);
  }

  /** Runs openssl with `args` in this PKI's folder; rejects with openssl's stderr. */
  async openssl(args: readonly string[]): Promise<string> {
    try {
      const { stdout } = await run('openssl', [...args], { cwd: this.dir, maxBuffer: 64 << 20 });
      return stdout;
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr ?? '';
      throw new Error(`openssl ${args[0]} failed: ${stderr.trim()}`, { cause: error });
    }
  }

  /** A path inside this PKI's folder for a new file named after `name`. */
  path(name: string): string {
    return join(this.dir, `${String(++this.counter).padStart(3, '0')}-${name}`);
  }

  /** Generates a private key; returns its PEM path. */
  async key(name: string, type: TestKeyType = 'ec'): Promise<string> {
    const out = this.path(`${slug(name)}.key`);
    const alg =
      type === 'rsa'
        ? ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']
        : type === 'ec'
          ? ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']
          : ['-algorithm', 'ED25519'];
    await this.openssl(['genpkey', ...alg, '-out', out]);
    return out;
  }

  /** A self-signed root CA valid from yesterday for ten years (or the given period). */
  async root(name: string, options: LeafOptions = {}): Promise<TestAuthority> {
    const caDir = await this.caFolder(name);
    const keyPath = await this.key(name, options.keyType);
    return this.issue(name, keyPath, { caDir, selfSign: true, isCa: true, options }, caDir);
  }

  /** An intermediate CA issued by `issuer`. */
  async intermediate(
    name: string,
    issuer: TestAuthority,
    options: LeafOptions = {},
  ): Promise<TestAuthority> {
    const caDir = await this.caFolder(name);
    const keyPath = await this.key(name, options.keyType);
    return this.issue(name, keyPath, { caDir: issuer.caDir, isCa: true, options }, caDir);
  }

  /** An end-entity S/MIME certificate issued by `issuer`. */
  async leaf(
    name: string,
    issuer: TestAuthority,
    options: LeafOptions = {},
  ): Promise<TestCertificate> {
    const keyPath = await this.key(name, options.keyType);
    return this.issue(name, keyPath, { caDir: issuer.caDir, isCa: false, options });
  }

  /** Marks `cert` revoked in `issuer`'s database (reason keyCompromise). */
  async revoke(issuer: TestAuthority, cert: TestCertificate): Promise<void> {
    await this.openssl([
      'ca',
      '-batch',
      '-config',
      issuer.configPath,
      '-revoke',
      cert.certPath,
      '-crl_reason',
      'keyCompromise',
    ]);
  }

  /** Generates a CRL of `issuer` (DER) listing everything revoked so far. */
  async crl(issuer: TestAuthority, options: { nextUpdateDays?: number } = {}): Promise<TestFile> {
    const pem = this.path(`${slug(issuer.name)}.crl.pem`);
    await this.openssl([
      'ca',
      '-batch',
      '-config',
      issuer.configPath,
      '-gencrl',
      '-crldays',
      String(options.nextUpdateDays ?? 30),
      '-out',
      pem,
    ]);
    const path = pem.replace(/\.pem$/, '.der');
    await this.openssl(['crl', '-in', pem, '-outform', 'DER', '-out', path]);
    return { path, bytes: new Uint8Array(await readFile(path)) };
  }

  /**
   * A real signed mail from `signer`, written by `openssl smime -sign` (multipart/signed with
   * application/x-pkcs7-signature), by `openssl cms -sign` with `cms: true` (which labels the
   * signature application/pkcs7-signature), or as opaque application/pkcs7-mime signed-data
   * with `opaque: true`. `chain` certificates are attached beside the signer's.
   */
  async signMail(
    signer: TestCertificate,
    options: { chain?: readonly TestCertificate[]; opaque?: boolean; cms?: boolean } = {},
  ): Promise<TestFile> {
    const body = this.path('body.txt');
    await writeFile(body, 'Hello,\r\n\r\nthis message is signed.\r\n');
    const path = this.path(`${slug(signer.name)}.eml`);
    const args = [
      options.cms ? 'cms' : 'smime',
      '-sign',
      '-in',
      body,
      '-text',
      '-signer',
      signer.certPath,
      '-inkey',
      signer.keyPath,
      '-from',
      signer.emails[0] ?? 'sender@example.org',
      '-to',
      'reader@example.org',
      '-subject',
      'Signed test message',
      '-out',
      path,
    ];
    if (options.opaque) args.push('-nodetach');
    if (options.chain?.length) {
      const chain = this.path('chain.pem');
      await writeFile(chain, options.chain.map((c) => c.pem).join(''));
      args.push('-certfile', chain);
    }
    await this.openssl(args);
    return { path, bytes: new Uint8Array(await readFile(path)) };
  }

  /** A PKCS#7 certificate bundle (.p7b) of `certs` and optional CRLs, DER or PEM. */
  async pkcs7(
    certs: readonly TestCertificate[],
    options: { crls?: readonly TestFile[]; pem?: boolean } = {},
  ): Promise<TestFile> {
    const path = this.path(options.pem ? 'bundle.p7b.pem' : 'bundle.p7b');
    const args = ['crl2pkcs7', '-outform', options.pem ? 'PEM' : 'DER', '-out', path];
    if (options.crls?.length) {
      for (const crl of options.crls) {
        const pem = this.path('crl.pem');
        await this.openssl(['crl', '-inform', 'DER', '-in', crl.path, '-out', pem]);
        args.push('-in', pem);
      }
    } else {
      args.push('-nocrl');
    }
    for (const c of certs) args.push('-certfile', c.certPath);
    await this.openssl(args);
    return { path, bytes: new Uint8Array(await readFile(path)) };
  }

  /** Writes `content` to a new file in this PKI's folder. */
  async file(name: string, content: string | Uint8Array): Promise<TestFile> {
    const path = this.path(name);
    await writeFile(path, content);
    return { path, bytes: new Uint8Array(await readFile(path)) };
  }

  /** Removes the whole folder. Safe to call twice. */
  async cleanup(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  private async caFolder(name: string): Promise<string> {
    const caDir = this.path(`${slug(name)}-ca`);
    await mkdir(join(caDir, 'newcerts'), { recursive: true });
    await writeFile(join(caDir, 'index.txt'), '');
    // A random first serial, so two authorities do not issue the same numbers.
    await writeFile(join(caDir, 'serial'), `${randomBytes(8).toString('hex')}\n`);
    await writeFile(join(caDir, 'crlnumber'), '01\n');
    await writeFile(join(caDir, 'openssl.cnf'), caConfig(caDir));
    return caDir;
  }

  private async issue(
    name: string,
    keyPath: string,
    how: { caDir: string; isCa: boolean; selfSign?: boolean; options: LeafOptions },
    ownCaDir?: string,
  ): Promise<TestAuthority & TestCertificate> {
    const { options } = how;
    const emails = [...(options.email ? [options.email] : []), ...(options.altEmails ?? [])];
    const subject =
      (options.organization ? `/O=${options.organization}` : '/O=certsync tests') +
      `/CN=${name}` +
      (options.email ? `/emailAddress=${options.email}` : '');
    const csr = this.path(`${slug(name)}.csr`);
    const config = join(how.caDir, 'openssl.cnf');
    await this.openssl([
      'req',
      '-new',
      '-config',
      config,
      '-key',
      keyPath,
      '-subj',
      subject,
      '-out',
      csr,
    ]);
    const ext = this.path(`${slug(name)}.ext`);
    const lines = how.isCa
      ? [
          'basicConstraints = critical, CA:true',
          'keyUsage = critical, keyCertSign, cRLSign',
          'subjectKeyIdentifier = hash',
        ]
      : [
          'basicConstraints = critical, CA:false',
          'keyUsage = critical, digitalSignature, keyEncipherment',
          'extendedKeyUsage = emailProtection',
          'subjectKeyIdentifier = hash',
          'authorityKeyIdentifier = keyid',
        ];
    if (emails.length) lines.push(`subjectAltName = ${emails.map((e) => `email:${e}`).join(',')}`);
    lines.push(...(options.extensions ?? []));
    await writeFile(ext, `[ ext ]\n${lines.join('\n')}\n`);
    const certPath = this.path(`${slug(name)}.pem`);
    const notBefore = options.notBefore ?? new Date(Date.now() - DAY);
    const notAfter = options.notAfter ?? new Date(Date.now() + (how.isCa ? 3650 : 365) * DAY);
    const args = [
      'ca',
      '-batch',
      '-notext',
      '-preserveDN',
      '-config',
      config,
      '-in',
      csr,
      '-out',
      certPath,
      '-extfile',
      ext,
      '-extensions',
      'ext',
      '-startdate',
      opensslTime(notBefore),
      '-enddate',
      opensslTime(notAfter),
    ];
    if (how.selfSign) args.push('-selfsign', '-keyfile', keyPath);
    await this.openssl(args);
    const pem = await readFile(certPath, 'utf8');
    const der = pemToDer(pem);
    const cert = { name, certPath, keyPath, der, pem, serialHex: serialOf(der), emails };
    const caDir = ownCaDir ?? '';
    if (ownCaDir) {
      await copyFile(keyPath, join(ownCaDir, 'ca.key'));
      await copyFile(certPath, join(ownCaDir, 'ca.pem'));
    }
    return { ...cert, caDir, configPath: join(caDir, 'openssl.cnf') };
  }
}

function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
}

/** The set most tests use; see {@link buildStandardPki}. */
export interface StandardPki {
  readonly pki: OpensslPki;
  readonly root: TestAuthority;
  readonly intermediate: TestAuthority;
  /** Valid, EC, e-mail in subject and SAN. */
  readonly alice: TestCertificate;
  /** Valid, RSA 2048, e-mail only in the SAN, plus a second SAN address. */
  readonly bob: TestCertificate;
  /** Expired last month. */
  readonly carol: TestCertificate;
  /** Valid but revoked by {@link StandardPki.crl}. */
  readonly dave: TestCertificate;
  /** The intermediate's CRL revoking dave (DER). */
  readonly crl: TestFile;
  /** Alice's signed mail (multipart/signed), carrying alice and the intermediate. */
  readonly signedMail: TestFile;
  /** Alice's opaque signed mail (application/pkcs7-mime signed-data). */
  readonly opaqueMail: TestFile;
  /** Removes every file. */
  cleanup(): Promise<void>;
}

/**
 * Builds root -> intermediate -> four leaves (alice, bob, carol expired, dave revoked), the
 * intermediate's CRL and two signed mails, in about a second. Call `cleanup()` when done.
 */
export async function buildStandardPki(): Promise<StandardPki> {
  const pki = await OpensslPki.create();
  try {
    const root = await pki.root('certsync Test Root');
    const intermediate = await pki.intermediate('certsync Test Intermediate', root);
    const alice = await pki.leaf('Alice Example', intermediate, { email: 'alice@example.org' });
    const bob = await pki.leaf('Bob Example', intermediate, {
      keyType: 'rsa',
      altEmails: ['bob@example.org', 'robert@example.net'],
    });
    const carol = await pki.leaf('Carol Example', intermediate, {
      email: 'carol@example.org',
      notBefore: new Date(Date.now() - 400 * DAY),
      notAfter: new Date(Date.now() - 30 * DAY),
    });
    const dave = await pki.leaf('Dave Example', intermediate, { email: 'dave@example.org' });
    await pki.revoke(intermediate, dave);
    const crl = await pki.crl(intermediate);
    const signedMail = await pki.signMail(alice, { chain: [intermediate] });
    const opaqueMail = await pki.signMail(alice, { chain: [intermediate], opaque: true });
    const cleanup = (): Promise<void> => pki.cleanup();
    return {
      pki,
      root,
      intermediate,
      alice,
      bob,
      carol,
      dave,
      crl,
      signedMail,
      opaqueMail,
      cleanup,
    };
  } catch (error) {
    await pki.cleanup();
    throw error;
  }
}
