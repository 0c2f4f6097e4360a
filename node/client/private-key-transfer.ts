/**
 * How a private key goes from one client to the other over a session, always as the answer to
 * a pull that names that one key (spec/session.md, "Private keys"):
 *
 * - `push --private-key`: this side offers the key (session-keys.ts) and waits; the peer, if
 *   its user allows receiving keys (`serve --accept-private-keys`), sees the offer at the head
 *   of a short listing ({@link takeOfferedKey}), pulls the certificate when it lacks it, then
 *   pulls the key. A peer that does not allow it never asks, and the push ends with
 *   `private-key-refused` after its wait.
 * - `pull --private-key`: this side lists the peer, which lists keys only when its user allows
 *   sending them (`serve --send-private-keys`), picks the key of the named certificate, pulls
 *   the certificate when it lacks it, then the key ({@link pullPrivateKey}).
 *
 * The receiving side stores the key encrypted under its own passphrase, beside its
 * certificate, and only when the key's public key is that certificate's.
 */
import { CertsyncError } from '../../protocol/errors.ts';
import type { ItemResult, ListEntry } from '../../protocol/messages/records.ts';
import { hexOf } from '../../protocol/wire/hex.ts';
import { checkPassphrase, openPrivateKey } from '../keys/private-key-ring.ts';
import type { Store } from '../store/index.ts';
import type { PeerSession } from './peer-session.ts';
import { storedResult, type KeyOffer, type SessionKeys } from './session-keys.ts';

/** How long `push --private-key` waits for the peer to ask for the key, by default. */
export const OFFER_WAIT_MS = 20_000;

/** A key that crossed (or was refused): its certificate and the receiver's result. */
export interface KeyTransfer {
  /** The certificate's fingerprint, hex. */
  readonly certificate: string;
  readonly result: ItemResult;
}

const HELD = new Set(['stored', 'updated', 'unchanged']);

/** True when a key's listing line names the certificate of `cert` (session-keys.ts). */
function describes(key: ListEntry, cert: ListEntry): boolean {
  return (
    cert.kind === 'cert' &&
    key.subject === cert.subject &&
    key.issuer === cert.issuer &&
    key.notBefore === cert.notBefore &&
    key.notAfter === cert.notAfter &&
    key.emails.join(' ') === cert.emails.join(' ')
  );
}

/**
 * Waits until the peer took the key this session offers for the certificate `certificate`
 * (hex), for at most `waitMs` without its pull.
 *
 * @throws CertsyncError `private-key-refused` when the peer did not ask for it, or the code
 *   of the peer's refusal
 */
export async function offerPrivateKey(
  session: PeerSession,
  keys: SessionKeys,
  certificate: string,
  waitMs = OFFER_WAIT_MS,
): Promise<KeyTransfer> {
  const id = keys.offeredId(certificate);
  if (id === undefined) throw new RangeError(`expected an offered certificate, got ${certificate}`);
  const outcome = await keys.whenTaken(id, session.whenEnded(), waitMs);
  return { certificate, result: storedResult(outcome, session.peer.name) };
}

/** Pulls one certificate of the peer unless the store holds it; true when it does after. */
async function haveCertificate(session: PeerSession, store: Store, cert: ListEntry) {
  if (store.certificates.has(cert.id)) return true;
  const got = await session.pull('add', [cert.id]);
  return got.results.some((r) => HELD.has(r.outcome));
}

/**
 * The serving side's part of a push: when the peer's listing opens with an offered key, pulls
 * its certificate if needed, then the key, and stores it under `passphrase` (already checked
 * against the store's keys). Null when the peer offers no key.
 *
 * @throws CertsyncError when the session fails meanwhile
 */
export async function takeOfferedKey(
  session: PeerSession,
  keys: SessionKeys,
  store: Store,
  passphrase: string,
): Promise<KeyTransfer | null> {
  const { entries } = await session.listFirst('store', 2);
  const [key, cert] = entries;
  if (key?.kind !== 'key') return null;
  const refused = (code: 'not-found' | 'private-key-refused'): KeyTransfer => ({
    certificate: cert ? hexOf(cert.id) : '',
    result: { id: key.id, outcome: 'refused', code },
  });
  if (!cert || !describes(key, cert)) return refused('not-found');
  if (!(await haveCertificate(session, store, cert))) return refused('not-found');
  await keys.expect(cert.id, passphrase);
  const got = await session.pull('add', [key.id]);
  return {
    certificate: hexOf(cert.id),
    result: got.results[0] ?? refused('private-key-refused').result,
  };
}

/**
 * `pull --private-key`: fetches the key of the peer's certificate whose fingerprint starts
 * with `prefix` (hex), and stores it under `passphrase` (already checked).
 *
 * @throws CertsyncError `private-key-refused` when the peer offers no keys or sends none;
 *   `not-found` when it lists no such certificate or no key for it; `bad-input` when the
 *   prefix names several certificates, or the key is not the certificate's
 */
export async function pullPrivateKey(
  session: PeerSession,
  keys: SessionKeys,
  store: Store,
  prefix: string,
  passphrase: string,
): Promise<KeyTransfer> {
  const peer = session.peer.name;
  const listed = await session.list('store');
  const offered = listed.filter((e) => e.kind === 'key');
  if (offered.length === 0) {
    throw new CertsyncError(
      'private-key-refused',
      `${peer} offers no private keys; a peer offers them only when its user allows it: ` +
        'certsync serve --send-private-keys with a passphrase',
    );
  }
  const certs = listed.filter((e) => e.kind === 'cert' && hexOf(e.id).startsWith(prefix));
  const [cert] = certs;
  if (!cert) throw new CertsyncError('not-found', `${peer} lists no certificate ${prefix}`);
  if (certs.length > 1) {
    throw new CertsyncError('bad-input', `${prefix} names ${certs.length} certificates of ${peer}`);
  }
  const fitting = offered.filter((k) => describes(k, cert));
  const [key] = fitting;
  const hex = hexOf(cert.id);
  if (!key) throw new CertsyncError('not-found', `${peer} offers no private key for ${hex}`);
  if (fitting.length > 1) {
    throw new CertsyncError('bad-input', `${peer} offers ${fitting.length} keys that fit ${hex}`);
  }
  if (!(await haveCertificate(session, store, cert))) {
    throw new CertsyncError('store-full', `the certificate ${hex} could not be stored here`);
  }
  await keys.expect(cert.id, passphrase);
  const got = await session.pull('add', [key.id]);
  const result = got.results[0];
  if (!result) {
    throw new CertsyncError('private-key-refused', `${peer} did not send the private key`);
  }
  if (!HELD.has(result.outcome)) {
    throw new CertsyncError(
      result.code ?? 'private-key-refused',
      `the private key of ${hex} was not stored (${result.outcome})`,
    );
  }
  return { certificate: hex, result };
}

/**
 * What `serve` does with private keys: the passphrase it stores received keys under, and the
 * keys it offers every peer (decrypted now, so that a wrong passphrase stops it at once).
 *
 * @throws CertsyncError `bad-input` for a passphrase that does not open the store's keys
 */
export async function serveKeys(
  store: Store,
  passphrase: string,
  allow: { readonly accept: boolean; readonly send: boolean },
): Promise<{ accept: string | null; offers: KeyOffer[] }> {
  await checkPassphrase(store, passphrase);
  const offers: KeyOffer[] = [];
  if (allow.send) {
    for (const fingerprint of store.privateKeys.list()) {
      const certificate = store.certificates.get(fingerprint);
      if (!certificate) continue;
      offers.push({ certificate, pkcs8: await openPrivateKey(store, fingerprint, passphrase) });
    }
  }
  return { accept: allow.accept ? passphrase : null, offers };
}
