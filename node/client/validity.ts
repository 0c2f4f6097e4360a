/**
 * Validity checks as the client runs them: the own store (`certsync check`, with the
 * recorded time of the last check and the configured interval), a peer's certificates
 * (`certsync peer check`) and the search for a valid replacement for an invalid one, in
 * the own store or on a key server.
 *
 * Trust comes from the own store: its self-signed CA certificates are the anchors, its
 * other CA certificates the intermediates, its CRLs the offline revocation data. OCSP
 * responders and CRL distribution points named in the certificates are asked over HTTP
 * unless the check is offline.
 */
import { request } from 'node:http';
import { CertsyncError } from '../../protocol/errors.ts';
import type { ValidityStatus } from '../../protocol/messages/catalog.ts';
import { readCertificateFile } from '../import/index.ts';
import { parseCertificate, type ParsedCertificate } from '../pki/index.ts';
import type { CertificateRecord, Store } from '../store/index.ts';
import {
  checkStore,
  httpRevocationFetcher,
  type ResultCode,
  type RevocationFetcher,
  type RevocationPolicy,
  type ValidateOptions,
} from '../validate/index.ts';

/** The verdict on one certificate, for people and for the wire. */
export interface CheckedCertificate {
  readonly fingerprint: string;
  readonly subject: string;
  readonly emails: readonly string[];
  readonly status: ValidityStatus;
  readonly code: ResultCode;
  readonly reason: string;
}

/** How a check runs. */
export interface CheckOptions {
  /** Validate at this time; default now. */
  readonly at?: Date;
  /** No HTTP: only the CRLs in the store. */
  readonly offline?: boolean;
  /** Hosts OCSP and CRL fetches may reach (default any). */
  readonly allowedHosts?: readonly string[];
  /** When revocation cannot be decided; default the store's `revocation-policy` setting. */
  readonly revocation?: RevocationPolicy;
}

/** The validator's verdict as a wire status (spec/protocol.md, "validity-report"). */
export function statusOf(code: ResultCode): ValidityStatus {
  switch (code) {
    case 'valid':
    case 'expired':
    case 'not-yet-valid':
    case 'revoked':
      return code;
    case 'revocation-unknown':
    case 'limit-exceeded':
      return 'unknown';
    default:
      return 'untrusted';
  }
}

/**
 * Anchors, intermediates and CRLs from the store (module comment), and the revocation policy:
 * `options.revocation`, else the store's setting (soft-fail unless set).
 */
export function trustFromStore(store: Store, options: CheckOptions = {}): ValidateOptions {
  const anchors: Uint8Array[] = [];
  const intermediates: Uint8Array[] = [];
  for (const r of store.certificates.list('store')) {
    if (!r.isCA) continue;
    const der = store.certificates.der(r.fingerprint);
    if (!der) continue;
    (r.subject === r.issuer ? anchors : intermediates).push(der);
  }
  const crls = store.crls
    .list()
    .map((c) => store.crls.der(c.fingerprint))
    .filter((d): d is Uint8Array => d !== undefined);
  const fetcher: RevocationFetcher | undefined = options.offline
    ? undefined
    : httpRevocationFetcher(options.allowedHosts ? { allowedHosts: options.allowedHosts } : {});
  return {
    anchors,
    intermediates,
    crls,
    revocation: options.revocation ?? store.settings.get('revocation-policy'),
    ...(fetcher ? { fetcher } : {}),
    ...(options.at ? { at: options.at } : {}),
  };
}

/**
 * Checks certificates (DER) against the store's trust.
 *
 * @throws CertsyncError `bad-certificate` only for input that is not a certificate at all;
 *   a malformed one gets the verdict `untrusted`
 */
export async function checkCertificates(
  store: Store,
  ders: readonly Uint8Array[],
  options: CheckOptions = {},
): Promise<CheckedCertificate[]> {
  const report = await checkStore(ders, trustFromStore(store, options));
  return report.results.map((r, i) => {
    const der = ders[i] as Uint8Array;
    let cert: ParsedCertificate | undefined;
    try {
      cert = parseCertificate(der);
    } catch {
      cert = undefined;
    }
    return {
      fingerprint: cert?.fingerprintHex ?? '',
      subject: cert?.subject ?? '(unreadable)',
      emails: cert?.emails ?? [],
      status: statusOf(r.code),
      code: r.code,
      reason: r.reason,
    };
  });
}

/** The outcome of {@link checkOwnStore}. */
export interface OwnCheck {
  /** False when the interval had not passed and the check was not forced. */
  readonly ran: boolean;
  /** When the store was last checked before this run (ms since 1970), or null. */
  readonly lastCheckAt: number | null;
  readonly intervalSeconds: number;
  /** End-entity certificates checked, with their verdicts (empty when not run). */
  readonly results: readonly CheckedCertificate[];
}

/**
 * Checks the store's end-entity certificates, when the configured interval has passed since
 * the last check or `force` is set, and records the time of this check.
 */
export async function checkOwnStore(
  store: Store,
  options: CheckOptions & { readonly force?: boolean; readonly now?: number } = {},
): Promise<OwnCheck> {
  const now = options.now ?? Date.now();
  const lastCheckAt = store.settings.get('last-check-at');
  const intervalSeconds = store.settings.get('check-interval-seconds');
  const due = lastCheckAt === null || now - lastCheckAt >= intervalSeconds * 1000;
  if (!due && !options.force) return { ran: false, lastCheckAt, intervalSeconds, results: [] };
  const targets = store.certificates.list('store').filter((r) => !r.isCA);
  const ders = targets.map((r) => store.certificates.der(r.fingerprint) as Uint8Array);
  const results = await checkCertificates(store, ders, options);
  store.settings.set('last-check-at', now);
  return { ran: true, lastCheckAt, intervalSeconds, results };
}

/**
 * A valid certificate from the own store for the same subject or an e-mail address of
 * `invalid` (the one that lasts longest), or null.
 */
export async function replacementFromStore(
  store: Store,
  invalid: CheckedCertificate,
  options: CheckOptions = {},
): Promise<CertificateRecord | null> {
  const candidates = store.certificates
    .list('store')
    .filter(
      (r) =>
        !r.isCA &&
        r.fingerprintHex !== invalid.fingerprint &&
        (r.subject === invalid.subject || r.emails.some((e) => invalid.emails.includes(e))),
    )
    .sort((a, b) => b.notAfter.getTime() - a.notAfter.getTime());
  if (candidates.length === 0) return null;
  const ders = candidates.map((r) => store.certificates.der(r.fingerprint) as Uint8Array);
  const verdicts = await checkCertificates(store, ders, options);
  const i = verdicts.findIndex((v) => v.status === 'valid');
  return i < 0 ? null : (candidates[i] as CertificateRecord);
}

/** Most bytes read from a key server for one address. */
const MAX_KEYSERVER_BYTES = 1 << 20;

/**
 * Asks a key server for the certificates of `email`: `GET <url>?email=<address>` over
 * plain HTTP, answered with PEM, DER or a PKCS#7 bundle (node/client/README.md, "Key server").
 * Returns the certificates, unchecked.
 *
 * @throws CertsyncError `link-error` when the server cannot be reached or answers badly,
 *   `timeout` when it takes longer than `timeoutMs`
 */
export async function fetchFromKeyServer(
  url: string,
  email: string,
  timeoutMs = 5_000,
): Promise<ParsedCertificate[]> {
  const target = new URL(url);
  if (target.protocol !== 'http:') {
    throw new CertsyncError('bad-input', `a key server URL must be http:, got ${url}`);
  }
  target.searchParams.set('email', email);
  const body = await new Promise<Uint8Array>((resolve, reject) => {
    const req = request(target, { method: 'GET', timeout: timeoutMs }, (res) => {
      if (res.statusCode === 404) {
        res.resume();
        resolve(new Uint8Array(0));
        return;
      }
      if (res.statusCode !== 200) {
        res.resume();
        reject(new CertsyncError('link-error', `key server answered ${res.statusCode}`));
        return;
      }
      const parts: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_KEYSERVER_BYTES) {
          req.destroy();
          reject(new CertsyncError('limit-exceeded', 'the key server sent more than 1 MiB'));
          return;
        }
        parts.push(chunk);
      });
      res.on('end', () => resolve(new Uint8Array(Buffer.concat(parts))));
      res.on('error', (e) => reject(new CertsyncError('link-error', String(e))));
    });
    req.on('timeout', () => {
      req.destroy();
      reject(new CertsyncError('timeout', `the key server did not answer in ${timeoutMs} ms`));
    });
    req.on('error', (e) =>
      reject(new CertsyncError('link-error', `cannot reach the key server: ${e.message}`)),
    );
    req.end();
  });
  if (body.length === 0) return [];
  return [...readCertificateFile(body, `key server answer for ${email}`).certificates];
}

/**
 * A valid certificate for an address of `invalid` from the key server at `url`, checked
 * against the own store's trust, or null.
 */
export async function replacementFromKeyServer(
  store: Store,
  url: string,
  invalid: CheckedCertificate,
  options: CheckOptions = {},
): Promise<ParsedCertificate | null> {
  for (const email of invalid.emails) {
    const found = (await fetchFromKeyServer(url, email)).filter(
      (c) => c.fingerprintHex !== invalid.fingerprint,
    );
    if (found.length === 0) continue;
    const verdicts = await checkCertificates(
      store,
      found.map((c) => c.der),
      options,
    );
    const i = verdicts.findIndex((v) => v.status === 'valid');
    if (i >= 0) return found[i] as ParsedCertificate;
  }
  return null;
}

/**
 * Hex ids of the own certificates a reconcile should not offer: end-entity certificates that
 * a check found expired, not yet valid or revoked. An untrusted verdict does not withhold:
 * a store without the anchors (a phone) cannot judge trust, and the better-connected side
 * checks. Uses `results` when a check just ran, else an offline check of the store.
 */
export async function invalidOwnCertificates(
  store: Store,
  results?: readonly CheckedCertificate[],
): Promise<Set<string>> {
  let verdicts = results;
  if (!verdicts) {
    const leaves = store.certificates.list('store').filter((r) => !r.isCA);
    const ders = leaves.map((r) => store.certificates.der(r.fingerprint) as Uint8Array);
    verdicts = await checkCertificates(store, ders, { offline: true });
  }
  const definite = new Set(['expired', 'not-yet-valid', 'revoked']);
  return new Set(verdicts.filter((v) => definite.has(v.status)).map((v) => v.fingerprint));
}
