/**
 * The certificates of a store: adding (with the capacity policy), finding, listing in the
 * four orders, recording uses, pinning, labelling and deleting (which leaves a tombstone).
 */
import { CertsyncError } from '../../protocol/errors.ts';
import { toHex, type ParsedCertificate } from '../pki/index.ts';
import { Capacity, MAX_ALERT_CANDIDATES, OverflowAlert } from './capacity.ts';
import {
  RECORD_COLUMNS,
  recordFromRow,
  type CertificateRecord,
  type RecordRow,
} from './certificate-record.ts';
import type { StoreContext } from './context.ts';

/** Orders `list` knows. `use`: most used first; `contact`: by the name shown. */
export type ListOrder = 'store' | 'use' | 'subject' | 'contact';

/** Every order, as the CLI lists them. */
export const LIST_ORDERS: readonly ListOrder[] = ['store', 'use', 'subject', 'contact'];

const ORDER_SQL: Readonly<Record<ListOrder, string>> = {
  store: 'c.id',
  use: 'c.use_count DESC, c.last_used_at DESC, c.id',
  subject: 'lower(coalesce(c.common_name, c.subject)), c.subject, c.id',
  contact: 'lower(coalesce(c.label, contact_name, c.common_name, c.subject)), c.id',
};

/** Options of {@link Certificates.add}. */
export interface AddOptions {
  /** Where the certificates came from, e.g. `file:/home/a/alice.pem`. */
  readonly source: string;
  /**
   * Certificates the caller chose to replace (after an {@link OverflowAlert}): each is
   * evicted first. Works under every policy, since the choice is explicit.
   */
  readonly victims?: readonly Uint8Array[];
}

/** What {@link Certificates.add} did. */
export interface AddResult {
  /** Newly stored, in the order given. */
  readonly added: readonly CertificateRecord[];
  /** Already held; left unchanged (re-importing is a no-op). */
  readonly present: readonly CertificateRecord[];
  /** Evicted to make room (chosen victims and `lru` victims). */
  readonly evicted: readonly CertificateRecord[];
}

/** The synced part of a certificate: when and where it last changed, and its user fields. */
export interface SyncStamp {
  readonly clock: number;
  readonly origin: Uint8Array;
  /** Local change counter at which the row changed. */
  readonly seq: number;
}

/** Synced user fields of a certificate. */
export interface CertificateMeta {
  readonly label?: string | null;
  readonly pinned?: boolean;
}

/** A store's certificates. Every method is all-or-nothing. */
export class Certificates {
  private readonly ctx: StoreContext;
  private readonly capacity: Capacity;
  private readonly statements;

  constructor(ctx: StoreContext, capacity: Capacity) {
    this.ctx = ctx;
    this.capacity = capacity;
    const db = ctx.db;
    this.statements = {
      byFingerprint: db.prepare(
        `SELECT ${RECORD_COLUMNS} FROM certificates c WHERE c.fingerprint = ?`,
      ),
      exists: db.prepare('SELECT 1 FROM certificates WHERE fingerprint = ?').pluck(),
      insert: db.prepare(`INSERT INTO certificates (fingerprint, der, subject, subject_der, issuer,
        issuer_der, common_name, serial, not_before, not_after, key_algorithm, key_size, is_ca,
        added_at, source, touch, label, pinned, clock, origin, seq)
        VALUES (@fingerprint, @der, @subject, @subjectDer, @issuer, @issuerDer, @commonName,
        @serial, @notBefore, @notAfter, @keyAlgorithm, @keySize, @isCA, @addedAt, @source,
        @touch, @label, @pinned, @clock, @origin, @seq)`),
      insertEmail: db.prepare(
        'INSERT OR IGNORE INTO certificate_emails (fingerprint, email) VALUES (?, ?)',
      ),
      remove: db.prepare('DELETE FROM certificates WHERE fingerprint = ?'),
      dropTombstone: db.prepare("DELETE FROM tombstones WHERE kind = 'cert' AND fingerprint = ?"),
      tombstone: db.prepare(`INSERT OR REPLACE INTO tombstones
        (kind, fingerprint, clock, origin, seq, deleted_at) VALUES ('cert', ?, ?, ?, ?, ?)`),
      count: db.prepare('SELECT count(*) FROM certificates').pluck(),
      meta: db.prepare('SELECT capacity, policy FROM meta'),
      lru: db
        .prepare(
          'SELECT fingerprint FROM certificates WHERE pinned = 0 ORDER BY touch, fingerprint LIMIT 1',
        )
        .pluck(),
      der: db.prepare('SELECT der FROM certificates WHERE fingerprint = ?').pluck(),
    };
  }

  /**
   * Stores each certificate not yet held, keeping the capacity: chosen `victims` are evicted
   * first, then the policy decides (see capacity.ts). Certificates already held are left
   * as they are. Duplicates within `certs` count once.
   *
   * @throws OverflowAlert (`overflow-alert`) when full under policy `alert`
   * @throws CertsyncError `store-full` when full under `refuse`, or nothing can be evicted;
   *   `not-found` / `bad-input` for a victim that is not held / pinned or also being added.
   *   Nothing is changed when it throws.
   */
  add(certs: readonly ParsedCertificate[], options: AddOptions): AddResult {
    return this.ctx.write(() => {
      const added: CertificateRecord[] = [];
      const present: CertificateRecord[] = [];
      const fresh: ParsedCertificate[] = [];
      const seen = new Set<string>();
      for (const cert of certs) {
        if (seen.has(cert.fingerprintHex)) continue;
        seen.add(cert.fingerprintHex);
        const held =
          this.statements.exists.get(cert.fingerprint) === undefined
            ? undefined
            : this.get(cert.fingerprint);
        if (held) present.push(held);
        else fresh.push(cert);
      }
      const evicted = this.evictChosen(options.victims ?? [], seen);
      this.refuseEarly(fresh.length);
      for (const cert of fresh) {
        const tick = this.ctx.tick();
        const stamp = { clock: tick, origin: this.ctx.storeId, seq: tick };
        evicted.push(...this.makeRoom(fresh.length - added.length));
        added.push(this.insert(cert, options.source, stamp, {}));
      }
      return { added, present, evicted };
    });
  }

  /**
   * Stores one certificate with a given sync stamp, making room by the policy. For the sync
   * layer (through SyncLog.applyRemote); the caller has checked the stamp wins.
   */
  insertSynced(
    cert: ParsedCertificate,
    source: string,
    stamp: SyncStamp,
    meta: CertificateMeta,
    victims: readonly Uint8Array[],
  ): CertificateRecord[] {
    const evicted = this.evictChosen(victims, new Set([cert.fingerprintHex]));
    evicted.push(...this.makeRoom(1));
    this.insert(cert, source, stamp, meta);
    return evicted;
  }

  /** Updates the synced fields of a held certificate to a winning remote change. */
  updateSynced(fingerprint: Uint8Array, stamp: SyncStamp, meta: CertificateMeta): void {
    const sets = ['clock = @clock', 'origin = @origin', 'seq = @seq'];
    if (meta.label !== undefined) sets.push('label = @label');
    if (meta.pinned !== undefined) sets.push('pinned = @pinned');
    this.ctx.db.prepare(`UPDATE certificates SET ${sets.join(', ')} WHERE fingerprint = @fp`).run({
      ...stamp,
      label: meta.label ?? null,
      pinned: meta.pinned ? 1 : 0,
      fp: fingerprint,
    });
  }

  /** Removes a held certificate without a tombstone (eviction, or a remote deletion). */
  removeRow(fingerprint: Uint8Array): void {
    this.statements.remove.run(fingerprint);
  }

  private evictChosen(victims: readonly Uint8Array[], adding: Set<string>): CertificateRecord[] {
    const evicted: CertificateRecord[] = [];
    for (const fp of victims) {
      const hex = toHex(fp);
      const victim = this.get(fp);
      if (!victim) throw new CertsyncError('not-found', `victim ${hex}: no such certificate`);
      if (victim.pinned) throw new CertsyncError('bad-input', `victim ${hex}: pinned`);
      if (adding.has(hex)) throw new CertsyncError('bad-input', `victim ${hex}: also being added`);
      this.removeRow(fp);
      evicted.push(victim);
    }
    return evicted;
  }

  /**
   * Under `alert` and `refuse`, fails before inserting anything when `count` more do not
   * fit, so the alert's candidates are all certificates held before the call.
   */
  private refuseEarly(count: number): void {
    const { capacity, policy } = this.statements.meta.get() as {
      capacity: number | null;
      policy: string;
    };
    if (capacity === null || policy === 'lru' || count === 0) return;
    const held = Number(this.statements.count.get());
    if (held + count <= capacity) return;
    this.makeRoom(count, held);
  }

  /** Makes room for one more certificate by the policy; `pending` are still to come. */
  private makeRoom(pending: number, heldBefore?: number): CertificateRecord[] {
    const { capacity, policy } = this.statements.meta.get() as {
      capacity: number | null;
      policy: string;
    };
    if (capacity === null) return [];
    const count = heldBefore ?? Number(this.statements.count.get());
    if (heldBefore === undefined && count < capacity) return [];
    const full = `the store holds ${count} of ${capacity}: no room for ${pending} more`;
    if (policy === 'refuse') {
      throw new CertsyncError('store-full', `${full}; the policy refuses`);
    }
    if (policy === 'alert') {
      const needed = count + pending - capacity;
      throw new OverflowAlert(
        `${full}; choose ${needed} to replace, or abort`,
        needed,
        this.capacity.victims(Math.max(needed, MAX_ALERT_CANDIDATES)),
      );
    }
    const evicted: CertificateRecord[] = [];
    // A zero capacity holds nothing: the loop still ends, as the insert then overflows.
    for (let n = count; n >= capacity && capacity > 0; n--) {
      const fp = this.statements.lru.get() as Buffer | undefined;
      if (!fp) {
        throw new CertsyncError('store-full', `the store is full and every certificate is pinned`);
      }
      const victim = this.get(fp);
      if (victim) evicted.push(victim);
      this.removeRow(fp);
    }
    if (capacity === 0) throw new CertsyncError('store-full', 'the store has a capacity of 0');
    return evicted;
  }

  private insert(
    cert: ParsedCertificate,
    source: string,
    stamp: SyncStamp,
    meta: CertificateMeta,
  ): CertificateRecord {
    this.statements.dropTombstone.run(cert.fingerprint);
    this.statements.insert.run({
      fingerprint: cert.fingerprint,
      der: cert.der,
      subject: cert.subject,
      subjectDer: cert.subjectDer,
      issuer: cert.issuer,
      issuerDer: cert.issuerDer,
      commonName: cert.commonName ?? null,
      serial: cert.serialHex,
      notBefore: cert.notBefore.getTime(),
      notAfter: cert.notAfter.getTime(),
      keyAlgorithm: cert.keyAlgorithm,
      keySize: cert.keySize ?? null,
      isCA: cert.isCA ? 1 : 0,
      addedAt: this.ctx.now(),
      source,
      touch: this.ctx.touch(),
      label: meta.label ?? null,
      pinned: meta.pinned ? 1 : 0,
      clock: stamp.clock,
      origin: stamp.origin,
      seq: stamp.seq,
    });
    for (const email of cert.emails) this.statements.insertEmail.run(cert.fingerprint, email);
    const record = this.get(cert.fingerprint);
    if (!record) throw new CertsyncError('internal', `${cert.fingerprintHex} vanished on insert`);
    return record;
  }

  /** The certificate with this fingerprint, or undefined. */
  get(fingerprint: Uint8Array): CertificateRecord | undefined {
    return this.ctx.read(() => {
      const row = this.statements.byFingerprint.get(fingerprint) as RecordRow | undefined;
      return row && recordFromRow(row);
    });
  }

  /** The DER bytes exactly as received, or undefined when not held. */
  der(fingerprint: Uint8Array): Uint8Array | undefined {
    return this.ctx.read(() => {
      const der = this.statements.der.get(fingerprint) as Buffer | undefined;
      return der && new Uint8Array(der);
    });
  }

  /** True when held. */
  has(fingerprint: Uint8Array): boolean {
    return this.ctx.read(() => this.statements.exists.get(fingerprint) !== undefined);
  }

  /** Every certificate in `order`. */
  list(order: ListOrder = 'store'): CertificateRecord[] {
    if (!LIST_ORDERS.includes(order)) {
      throw new RangeError(`expected an order of ${LIST_ORDERS.join(', ')}, got ${String(order)}`);
    }
    return this.ctx.read(() =>
      (
        this.ctx.db
          .prepare(`SELECT ${RECORD_COLUMNS} FROM certificates c ORDER BY ${ORDER_SQL[order]}`)
          .all() as RecordRow[]
      ).map(recordFromRow),
    );
  }

  /** Certificates whose fingerprint's hex starts with `prefix` (case-insensitive). */
  findByPrefix(prefix: string): CertificateRecord[] {
    if (!/^[0-9a-fA-F]{1,64}$/.test(prefix)) {
      throw new TypeError(`expected a hex fingerprint prefix, got ${prefix}`);
    }
    return this.ctx.read(() =>
      (
        this.ctx.db
          .prepare(
            `SELECT ${RECORD_COLUMNS} FROM certificates c WHERE hex(c.fingerprint) LIKE ? ORDER BY c.id`,
          )
          .all(`${prefix.toUpperCase()}%`) as RecordRow[]
      ).map(recordFromRow),
    );
  }

  /** Certificates carrying `email` (subject or SAN), in store order. */
  findByEmail(email: string): CertificateRecord[] {
    return this.ctx.read(() =>
      (
        this.ctx.db
          .prepare(
            `SELECT ${RECORD_COLUMNS} FROM certificates c WHERE c.fingerprint IN
             (SELECT fingerprint FROM certificate_emails WHERE email = ?) ORDER BY c.id`,
          )
          .all(email.trim().toLowerCase()) as RecordRow[]
      ).map(recordFromRow),
    );
  }

  /** Certificates whose subject Name is exactly `subjectDer`, in store order. */
  findBySubject(subjectDer: Uint8Array): CertificateRecord[] {
    return this.ctx.read(() =>
      (
        this.ctx.db
          .prepare(
            `SELECT ${RECORD_COLUMNS} FROM certificates c WHERE c.subject_der = ? ORDER BY c.id`,
          )
          .all(subjectDer) as RecordRow[]
      ).map(recordFromRow),
    );
  }

  /**
   * Records that the mail client used the certificate now (local: not synced, does not move
   * the change counter; it does make it the most recently used for `lru`).
   *
   * @throws CertsyncError `not-found`
   */
  recordUse(fingerprint: Uint8Array): CertificateRecord {
    return this.ctx.write(() => {
      const result = this.ctx.db
        .prepare(
          `UPDATE certificates SET use_count = use_count + 1, last_used_at = ?, touch = ?
                  WHERE fingerprint = ?`,
        )
        .run(this.ctx.now(), this.ctx.touch(), fingerprint);
      if (result.changes === 0) {
        throw new CertsyncError('not-found', `certificate ${toHex(fingerprint)}: not in the store`);
      }
      return this.get(fingerprint) as CertificateRecord;
    });
  }

  /**
   * Sets the label and/or pin of a certificate: a synced change, so it advances the clock.
   *
   * @throws CertsyncError `not-found`
   */
  setMeta(fingerprint: Uint8Array, meta: CertificateMeta): CertificateRecord {
    return this.ctx.write(() => {
      if (!this.has(fingerprint)) {
        throw new CertsyncError('not-found', `certificate ${toHex(fingerprint)}: not in the store`);
      }
      const tick = this.ctx.tick();
      this.updateSynced(fingerprint, { clock: tick, origin: this.ctx.storeId, seq: tick }, meta);
      return this.get(fingerprint) as CertificateRecord;
    });
  }

  /**
   * Deletes certificates, leaving a tombstone for each so that a sync propagates it.
   *
   * @throws CertsyncError `not-found` when one is not held (then none is deleted)
   */
  delete(fingerprints: readonly Uint8Array[]): CertificateRecord[] {
    return this.ctx.write(() =>
      fingerprints.map((fp) => {
        const held = this.get(fp);
        if (!held)
          throw new CertsyncError('not-found', `certificate ${toHex(fp)}: not in the store`);
        const tick = this.ctx.tick();
        this.removeRow(fp);
        this.statements.tombstone.run(fp, tick, this.ctx.storeId, tick, this.ctx.now());
        return held;
      }),
    );
  }
}
