/**
 * What every table of a store shares: the connection, the store's id, the clock, and the
 * two ways in (a read, or a write that is one immediate transaction).
 */
import { translateSqliteError, type Db } from './database.ts';

/** Shared state of one open store, for node/store modules. */
export class StoreContext {
  readonly db: Db;
  readonly path: string;
  /** This store's random 16-byte id: the `origin` of its own changes. */
  readonly storeId: Uint8Array;
  /** Wall-clock milliseconds, injectable for tests. */
  readonly now: () => number;

  private readonly tickStatement;
  private readonly observeStatement;
  private readonly touchStatement;

  constructor(db: Db, path: string, storeId: Uint8Array, now: () => number) {
    this.db = db;
    this.path = path;
    this.storeId = storeId;
    this.now = now;
    this.tickStatement = db.prepare('UPDATE meta SET clock = clock + 1 RETURNING clock').pluck();
    this.observeStatement = db
      .prepare('UPDATE meta SET clock = max(clock, ?) + 1 RETURNING clock')
      .pluck();
    this.touchStatement = db.prepare('UPDATE meta SET touch = touch + 1 RETURNING touch').pluck();
  }

  /**
   * Runs `fn` as one immediate (write-locking) transaction: all of it happens or none. Nested
   * calls join the outer transaction. SQLite failures become CertsyncErrors naming the file.
   */
  write<T>(fn: () => T): T {
    try {
      if (this.db.inTransaction) return fn();
      return this.db.transaction(fn).immediate();
    } catch (error) {
      throw translateSqliteError(error, this.path);
    }
  }

  /** Runs a read, translating SQLite failures. */
  read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw translateSqliteError(error, this.path);
    }
  }

  /** Advances the store's Lamport clock for a local change; returns the new value. */
  tick(): number {
    return Number(this.tickStatement.get());
  }

  /** Lamport receive rule: clock = max(clock, remote) + 1; returns the new value. */
  observe(remoteClock: number): number {
    return Number(this.observeStatement.get(remoteClock));
  }

  /** Next value of the local recency counter that orders least-recently-used eviction. */
  touch(): number {
    return Number(this.touchStatement.get());
  }

  /** The store's current clock, which is also its change counter. */
  clock(): number {
    return Number(this.db.prepare('SELECT clock FROM meta').pluck().get());
  }
}
