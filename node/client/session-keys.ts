/**
 * Private keys in one session (spec/session.md, "Private keys"; spec/protocol.md, "Private
 * keys"). On the wire a key crosses only in the transfer that answers a pull naming exactly
 * that key, and the session engine enforces it on both sides. What the client adds:
 *
 * - **Offers**: the keys this side's user chose to send in this session (`push --private-key`
 *   offers one; `serve --send-private-keys` offers the store's keys). They are decrypted
 *   before the session. Each is listed at the head of every listing, its certificate right
 *   behind it, and is read only under its own id. A session without offers lists no key,
 *   reads no key, and runs the engine with sending keys turned off.
 * - **Taking**: a key is stored only after {@link SessionKeys.expect} named the certificate
 *   it belongs to and derived the sealing key under the store's passphrase; one key per
 *   expect. It is stored encrypted at once, beside its certificate, if its public key is
 *   that certificate's. Any other key that arrives is refused.
 *
 * A key is named on the wire by its item id, the SHA-256 of its PKCS#8 bytes; people name it
 * by its certificate. A key's listing line carries its certificate's subject, issuer,
 * addresses and validity, so that the peer can tell which certificate it belongs to.
 */
import { CertsyncError, isCertsyncError } from '../../protocol/errors.ts';
import type { Item, ItemResult, ListEntry } from '../../protocol/messages/records.ts';
import { bytesOf, hexOf } from '../../protocol/wire/hex.ts';
import { storeReceivedKey } from '../keys/private-key-ring.ts';
import { prepareEncryption, type KeySealer } from '../keys/private-key-vault.ts';
import { sha256 } from '../pki/index.ts';
import type { CertificateRecord, Store } from '../store/index.ts';
import { listEntryOf } from './list-entry.ts';

/** A private key this side may send in one session, on a pull that names it alone. */
export interface KeyOffer {
  readonly certificate: CertificateRecord;
  /** The plain PKCS#8 key. */
  readonly pkcs8: Uint8Array;
}

/** What the peer did with an offered key, or why it was not taken. */
export type OfferOutcome =
  | { readonly kind: 'taken'; readonly result: ItemResult }
  | { readonly kind: 'not-asked'; readonly reason: string };

interface Pending {
  readonly certificate: Uint8Array;
  readonly sealer: KeySealer;
}

/** The private keys of one session; see the module comment. */
export class SessionKeys {
  private readonly store: Store;
  private readonly offers: ReadonlyMap<string, KeyOffer>;
  private pending: Pending | null = null;
  private readonly results = new Map<string, ItemResult>();
  private readonly listeners = new Map<string, (r: ItemResult) => void>();

  /** @param offers the keys this side may send in this session (none: sends no key) */
  constructor(store: Store, offers: readonly KeyOffer[] = []) {
    this.store = store;
    this.offers = new Map(offers.map((o) => [hexOf(sha256(o.pkcs8)), o]));
  }

  /** True when this side offers at least one key: the engine may then send keys. */
  get offering(): boolean {
    return this.offers.size > 0;
  }

  /** The hex item id of the offered key of the certificate `fingerprint` (hex), if offered. */
  offeredId(fingerprint: string): string | undefined {
    for (const [id, o] of this.offers) if (o.certificate.fingerprintHex === fingerprint) return id;
    return undefined;
  }

  /** The listing lines of the offered keys, in offer order. */
  entries(): ListEntry[] {
    return [...this.offers].map(([id, o]) => ({
      ...listEntryOf(o.certificate, o.pkcs8.length),
      id: bytesOf(id),
      kind: 'key',
      pinned: false,
      useCount: 0,
    }));
  }

  /** Hex fingerprints of the offered keys' certificates, listed right after the keys. */
  certificates(): string[] {
    return [...this.offers.values()].map((o) => o.certificate.fingerprintHex);
  }

  /** The item of an offered key (hex id), else undefined: nothing else is ever read. */
  item(id: string): Item | undefined {
    const offer = this.offers.get(id);
    if (!offer) return undefined;
    return { kind: 'key', der: offer.pkcs8, pinned: false, clock: 0, origin: this.store.id };
  }

  /**
   * Makes ready to store the one key of the certificate `fingerprint`, encrypted under
   * `passphrase` (which must open the store's other keys: checked by the caller). Takes about
   * a second (scrypt).
   */
  async expect(fingerprint: Uint8Array, passphrase: string): Promise<void> {
    this.pending = { certificate: fingerprint, sealer: await prepareEncryption(passphrase) };
  }

  /** Stores a key that arrived (the engine checked it was pulled alone), or refuses it. */
  receive(pkcs8: Uint8Array): ItemResult {
    const id = sha256(pkcs8);
    const pending = this.pending;
    if (!pending) return { id, outcome: 'refused', code: 'private-key-refused' };
    this.pending = null;
    try {
      const outcome = storeReceivedKey(this.store, pending.certificate, pkcs8, pending.sealer);
      return { id, outcome };
    } catch (error) {
      if (!isCertsyncError(error)) throw error;
      const outcome = error.code === 'not-found' ? 'refused' : 'invalid';
      return { id, outcome, code: error.code };
    }
  }

  /** Notes the peer's results for items this side sent (the items-acked effect). */
  acknowledged(results: readonly ItemResult[]): void {
    for (const r of results) {
      const id = hexOf(r.id);
      if (!this.offers.has(id)) continue;
      this.results.set(id, r);
      this.listeners.get(id)?.(r);
    }
  }

  /**
   * Waits until the peer took the offered key `id` (hex): its result, once it pulled it;
   * `not-asked` when `ended` settles first or `waitMs` passes without a pull.
   */
  async whenTaken(id: string, ended: Promise<unknown>, waitMs: number): Promise<OfferOutcome> {
    if (!this.offers.has(id)) throw new RangeError(`expected an offered key id, got ${id}`);
    const known = this.results.get(id);
    if (known) return { kind: 'taken', result: known };
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        new Promise<OfferOutcome>((resolve) =>
          this.listeners.set(id, (result) => resolve({ kind: 'taken', result })),
        ),
        ended.then(
          (): OfferOutcome => ({ kind: 'not-asked', reason: 'the peer ended the session' }),
          (): OfferOutcome => ({ kind: 'not-asked', reason: 'the session failed' }),
        ),
        new Promise<OfferOutcome>((resolve) => {
          timer = setTimeout(
            () => resolve({ kind: 'not-asked', reason: `no pull within ${waitMs / 1000} s` }),
            waitMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
      this.listeners.delete(id);
    }
  }
}

/**
 * The peer's result for a key it took and stored.
 *
 * @throws CertsyncError `private-key-refused` when the peer did not ask for the key, or the
 *   code of the peer's refusal when it did not store it
 */
export function storedResult(outcome: OfferOutcome, peer: string): ItemResult {
  if (outcome.kind === 'not-asked') {
    throw new CertsyncError(
      'private-key-refused',
      `${peer} did not ask for the private key (${outcome.reason}); a peer takes one only ` +
        'when its user allows it: certsync serve --accept-private-keys with a passphrase',
    );
  }
  const r = outcome.result;
  if (r.outcome === 'stored' || r.outcome === 'unchanged') return r;
  throw new CertsyncError(
    r.code ?? 'private-key-refused',
    `${peer} did not store the private key (${r.outcome}${r.code ? `: ${r.code}` : ''})`,
  );
}
