/**
 * A certsync store: one SQLite file per client holding certificates, CRLs, tombstones, the
 * store's identity, its peers, private keys, settings and contacts. SCHEMA.md describes the
 * file; each table's behaviour lives in its own module, reached through this class.
 */
import { randomBytes } from 'node:crypto';
import { Capacity, type OverflowPolicy } from './capacity.ts';
import { Certificates } from './certificates.ts';
import { Contacts } from './contacts.ts';
import { StoreContext } from './context.ts';
import { Crls } from './crls.ts';
import { CertsyncError } from '../../protocol/errors.ts';
import { openDatabase, translateSqliteError, type Db } from './database.ts';
import { createIdentity, readIdentity, type StoreIdentity } from './identity.ts';
import { Peers } from './peers.ts';
import { PrivateKeys } from './private-keys.ts';
import { Settings } from './settings.ts';
import { SyncLog } from './sync-log.ts';

/** Options of {@link Store.open}. */
export interface StoreOpenOptions {
  /** Create the store (and its folder) if the file does not exist. Default false. */
  readonly create?: boolean;
  /** For a new store: its capacity (default none) and policy (default `lru`). */
  readonly capacity?: number | null;
  readonly policy?: OverflowPolicy;
  /** How long to wait for another process's write before `store-locked`; default 2000. */
  readonly busyTimeoutMs?: number;
  /** Clock in ms since the epoch; default Date.now. For tests. */
  readonly now?: () => number;
}

/** One open store. Close it when done. */
export class Store {
  /** The file this store lives in. */
  readonly path: string;
  /** Random 16-byte id, fixed at creation; the origin of this store's changes. */
  readonly id: Uint8Array;
  readonly certificates: Certificates;
  readonly crls: Crls;
  readonly capacity: Capacity;
  readonly sync: SyncLog;
  readonly peers: Peers;
  readonly privateKeys: PrivateKeys;
  readonly settings: Settings;
  readonly contacts: Contacts;
  private readonly ctx: StoreContext;
  private readonly db: Db;

  private constructor(ctx: StoreContext) {
    this.ctx = ctx;
    this.db = ctx.db;
    this.path = ctx.path;
    this.id = ctx.storeId;
    this.capacity = new Capacity(ctx);
    this.certificates = new Certificates(ctx, this.capacity);
    this.crls = new Crls(ctx);
    this.sync = new SyncLog(ctx, this.certificates, this.crls);
    this.peers = new Peers(ctx);
    this.privateKeys = new PrivateKeys(ctx);
    this.settings = new Settings(ctx);
    this.contacts = new Contacts(ctx);
  }

  /**
   * Opens the store at `path` (`:memory:` for a throwaway one), creating it when asked.
   * A new store gets a random id, identity keys and the given capacity in one transaction.
   *
   * @throws RangeError for a bad capacity or policy
   * @throws CertsyncError `store-unreadable` (missing without `create`, not SQLite, not a
   *   certsync store, damaged, folder cannot be made), `store-too-new`, `store-locked`
   */
  static open(path: string, options: StoreOpenOptions = {}): Store {
    const now = options.now ?? Date.now;
    const capacity = options.capacity ?? null;
    if (capacity !== null && !(Number.isSafeInteger(capacity) && capacity >= 0)) {
      throw new RangeError(`expected a capacity that is a whole number >= 0, got ${capacity}`);
    }
    const policy = options.policy ?? 'lru';
    if (!['lru', 'alert', 'refuse'].includes(policy)) {
      throw new RangeError(`expected a policy of lru, alert, refuse, got ${String(policy)}`);
    }
    const db = openDatabase(path, {
      create: options.create ?? false,
      busyTimeoutMs: options.busyTimeoutMs,
      initialise: (fresh) => {
        fresh
          .prepare(
            `INSERT INTO meta (id, store_id, clock, touch, capacity, policy, created_at)
             VALUES (1, ?, 0, 0, ?, ?, ?)`,
          )
          .run(randomBytes(16), capacity, policy, now());
        createIdentity(fresh, now());
      },
    });
    try {
      const id = db.prepare('SELECT store_id FROM meta WHERE id = 1').pluck().get();
      if (!(id instanceof Buffer) || id.length !== 16) {
        throw new CertsyncError('store-unreadable', `${path}: the store has no identity row`);
      }
      return new Store(new StoreContext(db, path, new Uint8Array(id), now));
    } catch (error) {
      db.close();
      // A damaged file often opens and fails only at its first read, which is this one.
      throw translateSqliteError(error, path);
    }
  }

  /**
   * Runs `fn` as one write transaction: every store change inside it happens, or none does
   * (when `fn` throws). Store methods called inside join it.
   */
  transaction<T>(fn: () => T): T {
    return this.ctx.write(fn);
  }

  /** The store's identity key pairs. */
  identity(): StoreIdentity {
    return readIdentity(this.ctx);
  }

  /** When the store was created. */
  createdAt(): Date {
    return this.ctx.read(
      () => new Date(Number(this.db.prepare('SELECT created_at FROM meta').pluck().get())),
    );
  }

  /** Closes the file. The object is unusable afterwards. */
  close(): void {
    if (this.db.open) this.db.close();
  }
}
