/**
 * The CRLs of a store. They are kept like certificates (DER as received, keyed by SHA-256,
 * synced, deleted with a tombstone) but do not count against the capacity.
 */
import { CertsyncError } from '../../protocol/errors.ts';
import { toHex, type ParsedCrl } from '../pki/index.ts';
import type { SyncStamp } from './certificates.ts';
import type { StoreContext } from './context.ts';

/** One stored CRL (its revoked serials are read with {@link Crls.revokedSerials}). */
export interface CrlRecord {
  readonly fingerprint: Uint8Array;
  readonly fingerprintHex: string;
  readonly position: number;
  readonly issuer: string;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  readonly revokedCount: number;
  readonly addedAt: Date;
  readonly source: string;
  readonly clock: number;
  readonly origin: Uint8Array;
}

/** A revocation found by {@link Crls.revocationOf}. */
export interface Revocation {
  readonly crl: Uint8Array;
  readonly revokedAt: Date;
}

interface CrlRow {
  id: number;
  fingerprint: Buffer;
  issuer: string;
  this_update: number;
  next_update: number | null;
  added_at: number;
  source: string;
  clock: number;
  origin: Buffer;
  revoked: number;
}

const COLUMNS = `r.id, r.fingerprint, r.issuer, r.this_update, r.next_update, r.added_at,
  r.source, r.clock, r.origin,
  (SELECT count(*) FROM crl_entries e WHERE e.crl_fingerprint = r.fingerprint) AS revoked`;

function fromRow(row: CrlRow): CrlRecord {
  const fingerprint = new Uint8Array(row.fingerprint);
  return {
    fingerprint,
    fingerprintHex: toHex(fingerprint),
    position: row.id,
    issuer: row.issuer,
    thisUpdate: new Date(row.this_update),
    nextUpdate: row.next_update === null ? undefined : new Date(row.next_update),
    revokedCount: row.revoked,
    addedAt: new Date(row.added_at),
    source: row.source,
    clock: row.clock,
    origin: new Uint8Array(row.origin),
  };
}

/** A store's CRLs. Every method is all-or-nothing. */
export class Crls {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  /** Stores each CRL not yet held; returns the ones added and the ones already present. */
  add(crls: readonly ParsedCrl[], source: string): { added: CrlRecord[]; present: CrlRecord[] } {
    return this.ctx.write(() => {
      const added: CrlRecord[] = [];
      const present: CrlRecord[] = [];
      for (const crl of crls) {
        const held = this.get(crl.fingerprint);
        if (held) {
          if (!present.some((p) => p.fingerprintHex === held.fingerprintHex)) present.push(held);
          continue;
        }
        const tick = this.ctx.tick();
        added.push(
          this.insertSynced(crl, source, { clock: tick, origin: this.ctx.storeId, seq: tick }),
        );
      }
      return { added, present };
    });
  }

  /** Stores one CRL under a given sync stamp (for the sync layer). */
  insertSynced(crl: ParsedCrl, source: string, stamp: SyncStamp): CrlRecord {
    const db = this.ctx.db;
    db.prepare("DELETE FROM tombstones WHERE kind = 'crl' AND fingerprint = ?").run(
      crl.fingerprint,
    );
    db.prepare(
      `INSERT INTO crls (fingerprint, der, issuer, issuer_der, this_update, next_update,
       added_at, source, clock, origin, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      crl.fingerprint,
      crl.der,
      crl.issuer,
      crl.issuerDer,
      crl.thisUpdate.getTime(),
      crl.nextUpdate?.getTime() ?? null,
      this.ctx.now(),
      source,
      stamp.clock,
      stamp.origin,
      stamp.seq,
    );
    const entry = db.prepare(
      'INSERT OR IGNORE INTO crl_entries (crl_fingerprint, serial, revoked_at) VALUES (?, ?, ?)',
    );
    for (const r of crl.revoked) entry.run(crl.fingerprint, r.serialHex, r.revokedAt.getTime());
    return this.get(crl.fingerprint) as CrlRecord;
  }

  /** Updates the sync stamp of a held CRL to a winning remote change. */
  updateSynced(fingerprint: Uint8Array, stamp: SyncStamp): void {
    this.ctx.db
      .prepare('UPDATE crls SET clock = ?, origin = ?, seq = ? WHERE fingerprint = ?')
      .run(stamp.clock, stamp.origin, stamp.seq, fingerprint);
  }

  /** Removes a held CRL without a tombstone. */
  removeRow(fingerprint: Uint8Array): void {
    this.ctx.db.prepare('DELETE FROM crls WHERE fingerprint = ?').run(fingerprint);
  }

  /** The CRL with this fingerprint, or undefined. */
  get(fingerprint: Uint8Array): CrlRecord | undefined {
    return this.ctx.read(() => {
      const row = this.ctx.db
        .prepare(`SELECT ${COLUMNS} FROM crls r WHERE r.fingerprint = ?`)
        .get(fingerprint) as CrlRow | undefined;
      return row && fromRow(row);
    });
  }

  /** DER exactly as received, or undefined. */
  der(fingerprint: Uint8Array): Uint8Array | undefined {
    return this.ctx.read(() => {
      const der = this.ctx.db
        .prepare('SELECT der FROM crls WHERE fingerprint = ?')
        .pluck()
        .get(fingerprint);
      return der instanceof Buffer ? new Uint8Array(der) : undefined;
    });
  }

  /** Every CRL in store order. */
  list(): CrlRecord[] {
    return this.ctx.read(() =>
      (this.ctx.db.prepare(`SELECT ${COLUMNS} FROM crls r ORDER BY r.id`).all() as CrlRow[]).map(
        fromRow,
      ),
    );
  }

  /** CRLs whose fingerprint hex starts with `prefix`. */
  findByPrefix(prefix: string): CrlRecord[] {
    if (!/^[0-9a-fA-F]{1,64}$/.test(prefix)) {
      throw new TypeError(`expected a hex fingerprint prefix, got ${prefix}`);
    }
    return this.ctx.read(() =>
      (
        this.ctx.db
          .prepare(`SELECT ${COLUMNS} FROM crls r WHERE hex(r.fingerprint) LIKE ? ORDER BY r.id`)
          .all(`${prefix.toUpperCase()}%`) as CrlRow[]
      ).map(fromRow),
    );
  }

  /** Serials (lowercase hex) listed by the CRL, with their revocation dates. */
  revokedSerials(fingerprint: Uint8Array): { serialHex: string; revokedAt: Date }[] {
    return this.ctx.read(() =>
      (
        this.ctx.db
          .prepare(
            'SELECT serial, revoked_at FROM crl_entries WHERE crl_fingerprint = ? ORDER BY serial',
          )
          .all(fingerprint) as { serial: string; revoked_at: number }[]
      ).map((r) => ({ serialHex: r.serial, revokedAt: new Date(r.revoked_at) })),
    );
  }

  /**
   * Stored CRLs of `issuerDer` that list `serialHex`. Does not judge whether a CRL is
   * current or genuine; the validator does.
   */
  revocationOf(issuerDer: Uint8Array, serialHex: string): Revocation[] {
    return this.ctx.read(() =>
      (
        this.ctx.db
          .prepare(
            `SELECT r.fingerprint, e.revoked_at FROM crls r JOIN crl_entries e
             ON e.crl_fingerprint = r.fingerprint WHERE r.issuer_der = ? AND e.serial = ?`,
          )
          .all(issuerDer, serialHex.toLowerCase()) as { fingerprint: Buffer; revoked_at: number }[]
      ).map((r) => ({ crl: new Uint8Array(r.fingerprint), revokedAt: new Date(r.revoked_at) })),
    );
  }

  /**
   * Deletes CRLs, leaving a tombstone for each.
   *
   * @throws CertsyncError `not-found` when one is not held (then none is deleted)
   */
  delete(fingerprints: readonly Uint8Array[]): CrlRecord[] {
    return this.ctx.write(() =>
      fingerprints.map((fp) => {
        const held = this.get(fp);
        if (!held) throw new CertsyncError('not-found', `CRL ${toHex(fp)}: not in the store`);
        const tick = this.ctx.tick();
        this.removeRow(fp);
        this.ctx.db
          .prepare(
            `INSERT OR REPLACE INTO tombstones (kind, fingerprint, clock, origin, seq, deleted_at)
             VALUES ('crl', ?, ?, ?, ?, ?)`,
          )
          .run(fp, tick, this.ctx.storeId, tick, this.ctx.now());
        return held;
      }),
    );
  }
}
