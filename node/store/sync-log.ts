/**
 * The store as the sync protocol sees it: a set of entries `{kind, fingerprint, deleted,
 * clock, origin}`, one per certificate, CRL and tombstone.
 *
 * Clock rules. The store keeps one Lamport clock, which is also its change counter:
 * - a local change (add, label, pin, delete) advances it and stamps the row with
 *   (clock, this store's id);
 * - applying a remote entry first sets clock = max(clock, remote clock) + 1 (the Lamport
 *   receive rule), so every later local change outranks everything seen so far;
 * - every row also records `seq`, the local counter value when it last changed here, which
 *   is what {@link SyncLog.entriesChangedSince} selects on.
 *
 * Merge rule: last writer wins by (clock, origin), origin compared bytewise. Because a local
 * change always carries a clock above anything seen, a deletion wins over the older copy it
 * deleted, and a re-import after a deletion wins over the deletion. Label and pinned are part
 * of the synced record; use count and last use are local and never move the clock.
 *
 * Tombstone compaction: a tombstone is dropped when it is older than the minimum age (30
 * days by default) AND every paired peer has acknowledged the change (its `acked_counter` is
 * at or past the tombstone's seq). With no peers, age alone decides.
 */
import { CertsyncError } from '../../protocol/errors.ts';
import { parseCertificate, parseCrl, sha256, toHex } from '../pki/index.ts';
import type { CertificateRecord } from './certificate-record.ts';
import type { Certificates } from './certificates.ts';
import type { StoreContext } from './context.ts';
import type { Crls } from './crls.ts';

/** Kinds of synced items. */
export type EntryKind = 'cert' | 'crl';

/** One item of a store in the form digests and reconciliation are built on. */
export interface SyncEntry {
  readonly kind: EntryKind;
  /** SHA-256 of the DER, 32 bytes. */
  readonly fingerprint: Uint8Array;
  /** True for a tombstone. */
  readonly deleted: boolean;
  /** Lamport clock of the entry's last change. */
  readonly clock: number;
  /** 16-byte id of the store that made that change. */
  readonly origin: Uint8Array;
}

/** What travels with a remote entry that is not a deletion. */
export interface RemoteRecord {
  /** The DER; needed when the item is not held here yet. */
  readonly der?: Uint8Array;
  readonly label?: string | null;
  readonly pinned?: boolean;
  /** Recorded as the new row's source, e.g. `peer:phone`. Default `peer`. */
  readonly source?: string;
  /** Certificates to evict for it, chosen after an overflow alert. */
  readonly victims?: readonly Uint8Array[];
}

/** What {@link SyncLog.applyRemote} did. */
export interface ApplyOutcome {
  /** False when the local entry was as new or newer (nothing changed but the clock). */
  readonly applied: boolean;
  /** Evicted to make room (capacity policy or chosen victims). */
  readonly evicted: readonly CertificateRecord[];
}

/** A held item with everything a peer needs to store it. */
export interface SyncRecord {
  readonly entry: SyncEntry;
  readonly der: Uint8Array;
  readonly label: string | null;
  readonly pinned: boolean;
}

/** Default minimum age of a tombstone before compaction may drop it. */
export const TOMBSTONE_MIN_AGE_MS = 30 * 86_400_000;

/** Orders two stamps: negative when a is older, positive when newer, 0 when equal. */
export function compareStamps(
  a: { clock: number; origin: Uint8Array },
  b: { clock: number; origin: Uint8Array },
): number {
  if (a.clock !== b.clock) return a.clock < b.clock ? -1 : 1;
  return Buffer.compare(a.origin, b.origin);
}

interface EntryRow {
  kind: EntryKind;
  fingerprint: Buffer;
  deleted: number;
  clock: number;
  origin: Buffer;
}

const ENTRIES_SQL = `
  SELECT 'cert' AS kind, fingerprint, 0 AS deleted, clock, origin, seq FROM certificates
  UNION ALL SELECT 'crl', fingerprint, 0, clock, origin, seq FROM crls
  UNION ALL SELECT kind, fingerprint, 1, clock, origin, seq FROM tombstones`;

function toEntry(row: EntryRow): SyncEntry {
  return {
    kind: row.kind,
    fingerprint: new Uint8Array(row.fingerprint),
    deleted: row.deleted === 1,
    clock: row.clock,
    origin: new Uint8Array(row.origin),
  };
}

function checkEntry(entry: SyncEntry): void {
  const ok =
    (entry.kind === 'cert' || entry.kind === 'crl') &&
    entry.fingerprint instanceof Uint8Array &&
    entry.fingerprint.length === 32 &&
    entry.origin instanceof Uint8Array &&
    entry.origin.length === 16 &&
    Number.isSafeInteger(entry.clock) &&
    entry.clock >= 0 &&
    typeof entry.deleted === 'boolean';
  if (!ok) throw new CertsyncError('bad-input', 'a sync entry is malformed');
}

/** The sync view of one store. */
export class SyncLog {
  private readonly ctx: StoreContext;
  private readonly certificates: Certificates;
  private readonly crls: Crls;

  constructor(ctx: StoreContext, certificates: Certificates, crls: Crls) {
    this.ctx = ctx;
    this.certificates = certificates;
    this.crls = crls;
  }

  /** The store's current Lamport clock / change counter. */
  counter(): number {
    return this.ctx.read(() => this.ctx.clock());
  }

  /** Every entry (live and deleted), in no particular order. */
  entries(): SyncEntry[] {
    return this.ctx.read(() => {
      const rows = this.ctx.db.prepare(ENTRIES_SQL).raw().all() as [
        EntryKind,
        Buffer,
        number,
        number,
        Buffer,
      ][];
      return rows.map(([kind, fp, deleted, clock, origin]) => ({
        kind,
        fingerprint: new Uint8Array(fp.buffer, fp.byteOffset, fp.length),
        deleted: deleted === 1,
        clock,
        origin: new Uint8Array(origin.buffer, origin.byteOffset, origin.length),
      }));
    });
  }

  /**
   * Entries that changed here after local counter value `counter`, and the counter now
   * (pass it next time). Evictions are not changes and do not appear.
   */
  entriesChangedSince(counter: number): { entries: SyncEntry[]; counter: number } {
    return this.ctx.read(() => {
      const rows = this.ctx.db
        .prepare(`SELECT * FROM (${ENTRIES_SQL}) WHERE seq > ? ORDER BY seq`)
        .all(counter) as EntryRow[];
      return { entries: rows.map(toEntry), counter: this.ctx.clock() };
    });
  }

  /** The entry for one item, or undefined when neither held nor deleted here. */
  entry(kind: EntryKind, fingerprint: Uint8Array): SyncEntry | undefined {
    return this.ctx.read(() => {
      const table = kind === 'cert' ? 'certificates' : 'crls';
      const live = this.ctx.db
        .prepare(
          `SELECT ? AS kind, fingerprint, 0 AS deleted, clock, origin FROM ${table} WHERE fingerprint = ?`,
        )
        .get(kind, fingerprint) as EntryRow | undefined;
      const row =
        live ??
        (this.ctx.db
          .prepare(
            'SELECT kind, fingerprint, 1 AS deleted, clock, origin FROM tombstones WHERE kind = ? AND fingerprint = ?',
          )
          .get(kind, fingerprint) as EntryRow | undefined);
      return row && toEntry(row);
    });
  }

  /** A held item with its DER and synced fields, to send to a peer; undefined if not held. */
  record(kind: EntryKind, fingerprint: Uint8Array): SyncRecord | undefined {
    const entry = this.entry(kind, fingerprint);
    if (!entry || entry.deleted) return undefined;
    if (kind === 'crl') {
      const der = this.crls.der(fingerprint);
      return der && { entry, der, label: null, pinned: false };
    }
    const cert = this.certificates.get(fingerprint);
    const der = this.certificates.der(fingerprint);
    return cert && der && { entry, der, label: cert.label ?? null, pinned: cert.pinned };
  }

  /**
   * Applies a peer's entry by the merge rule (module comment). A deletion removes the item
   * and keeps the tombstone; a live entry for an item not held needs `record.der`, which is
   * checked against the fingerprint and parsed, and is stored under the capacity policy.
   *
   * @throws TypeError when a live entry for an item not held comes without DER
   * @throws CertsyncError `bad-input` (malformed entry), `bad-certificate` / `bad-crl` (DER
   *   that does not hash to the fingerprint or does not parse), and the capacity errors of
   *   Certificates.add (`overflow-alert`, `store-full`). Nothing changes when it throws.
   */
  applyRemote(entry: SyncEntry, record: RemoteRecord = {}): ApplyOutcome {
    checkEntry(entry);
    return this.ctx.write(() => {
      const seq = this.ctx.observe(entry.clock);
      const local = this.entry(entry.kind, entry.fingerprint);
      if (local && compareStamps(entry, local) <= 0) return { applied: false, evicted: [] };
      const stamp = { clock: entry.clock, origin: entry.origin, seq };
      const held = local !== undefined && !local.deleted;
      if (entry.deleted) {
        if (held && entry.kind === 'cert') this.certificates.removeRow(entry.fingerprint);
        if (held && entry.kind === 'crl') this.crls.removeRow(entry.fingerprint);
        this.ctx.db
          .prepare(
            `INSERT OR REPLACE INTO tombstones (kind, fingerprint, clock, origin, seq, deleted_at)
             VALUES (?, ?, ?, ?, ?, ?)`,
          )
          .run(entry.kind, entry.fingerprint, entry.clock, entry.origin, seq, this.ctx.now());
        return { applied: true, evicted: [] };
      }
      const meta = { label: record.label, pinned: record.pinned };
      if (held) {
        if (entry.kind === 'cert') this.certificates.updateSynced(entry.fingerprint, stamp, meta);
        else this.crls.updateSynced(entry.fingerprint, stamp);
        return { applied: true, evicted: [] };
      }
      const der = record.der;
      const hex = toHex(entry.fingerprint);
      if (!der) throw new TypeError(`expected the DER of ${entry.kind} ${hex}, got none`);
      const code = entry.kind === 'cert' ? 'bad-certificate' : 'bad-crl';
      if (Buffer.compare(sha256(der), entry.fingerprint) !== 0) {
        throw new CertsyncError(
          code,
          `${entry.kind} ${hex}: the DER does not match its fingerprint`,
        );
      }
      const source = record.source ?? 'peer';
      if (entry.kind === 'crl') {
        this.crls.insertSynced(parseCrl(der, `CRL ${hex}`), source, stamp);
        return { applied: true, evicted: [] };
      }
      const cert = parseCertificate(der, `certificate ${hex}`);
      const evicted = this.certificates.insertSynced(
        cert,
        source,
        stamp,
        meta,
        record.victims ?? [],
      );
      return { applied: true, evicted };
    });
  }

  /**
   * Drops tombstones by the compaction rule (module comment); returns how many.
   *
   * @param options.minAgeMs default {@link TOMBSTONE_MIN_AGE_MS}
   */
  compactTombstones(options: { minAgeMs?: number } = {}): number {
    const minAge = options.minAgeMs ?? TOMBSTONE_MIN_AGE_MS;
    return this.ctx.write(() => {
      const acked = this.ctx.db.prepare('SELECT min(acked_counter) FROM peers').pluck().get() as
        number | null;
      const result = this.ctx.db
        .prepare('DELETE FROM tombstones WHERE deleted_at <= ? AND (? IS NULL OR seq <= ?)')
        .run(this.ctx.now() - minAge, acked, acked);
      return result.changes;
    });
  }
}
