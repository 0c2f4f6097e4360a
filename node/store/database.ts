/**
 * Opening a store file: SQLite settings, the certsync file check, schema migrations, and the
 * translation of SQLite failures into {@link CertsyncError}s that name the file.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { CertsyncError } from '../../protocol/errors.ts';
import { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from './schema.ts';

/** The better-sqlite3 connection type, for node/store modules. */
export type Db = Database.Database;

/** How long a command waits for another process's write to finish before `store-locked`. */
export const DEFAULT_BUSY_TIMEOUT_MS = 2000;

const LOCKED = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED']);

/**
 * `error` as a CertsyncError naming `path`: busy or locked -> `store-locked`, any other
 * SQLite failure (not a database, corrupt, unreadable) -> `store-unreadable`. Other errors
 * are returned unchanged.
 */
export function translateSqliteError(error: unknown, path: string): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return error;
  const base = code.replace(/^(SQLITE_[A-Z]+).*$/, '$1');
  const reason = error instanceof Error ? error.message : code;
  if (LOCKED.has(base)) {
    return new CertsyncError('store-locked', `${path}: another process is using the store`, {
      cause: error,
    });
  }
  return new CertsyncError('store-unreadable', `${path}: cannot use the store (${reason})`, {
    cause: error,
  });
}

/**
 * Makes the folder `dir` and its missing parents, one level at a time: Node 20's recursive
 * mkdir spins forever on some paths (under /proc), and this one fails instead.
 *
 * @throws CertsyncError `store-unreadable` naming `path` when a folder cannot be made
 */
function makeFolder(dir: string, path: string): void {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) {
    missing.push(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (error) {
      const reason = (error as { code?: string }).code ?? String(error);
      throw new CertsyncError(
        'store-unreadable',
        `${path}: cannot make the folder ${d} (${reason})`,
        {
          cause: error,
        },
      );
    }
  }
}

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** Create the file (and its folder) when missing. Default false. */
  readonly create?: boolean;
  /** Default {@link DEFAULT_BUSY_TIMEOUT_MS}. */
  readonly busyTimeoutMs?: number;
  /** Fills a new store's first rows, inside the transaction that creates its schema. */
  readonly initialise?: (db: Db) => void;
}

/**
 * Opens and, where needed, migrates the store at `path`; a new store gets its schema and
 * `initialise` in one transaction, so a crash never leaves a half-made store.
 *
 * @throws CertsyncError `store-unreadable` (missing file without `create`, not SQLite, not a
 *   certsync store), `store-too-new` (written by a newer schema), `store-locked`
 */
export function openDatabase(path: string, options: OpenDatabaseOptions = {}): Db {
  if (!options.create && path !== ':memory:' && !existsSync(path)) {
    throw new CertsyncError(
      'store-unreadable',
      `${path}: no store here (create one with "certsync init")`,
    );
  }
  let db: Db | undefined;
  try {
    if (options.create && path !== ':memory:') makeFolder(dirname(path), path);
    db = new Database(path, { fileMustExist: !options.create });
    db.pragma(
      `busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS))}`,
    );
    const appId = Number(db.pragma('application_id', { simple: true }));
    const version = Number(db.pragma('user_version', { simple: true }));
    const tables = Number(
      db.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table'").pluck().get(),
    );
    const empty = appId === 0 && version === 0 && tables === 0;
    if (!empty && appId !== APPLICATION_ID) {
      throw new CertsyncError(
        'store-unreadable',
        `${path}: a SQLite file, but not a certsync store`,
      );
    }
    if (empty && !options.create) {
      throw new CertsyncError('store-unreadable', `${path}: an empty file, not a certsync store`);
    }
    if (version > SCHEMA_VERSION) {
      throw new CertsyncError(
        'store-too-new',
        `${path}: written by a newer certsync (schema ${version}; this one knows up to ${SCHEMA_VERSION})`,
      );
    }
    if (path !== ':memory:') db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    if (version < SCHEMA_VERSION) migrate(db, version, options.initialise);
    return db;
  } catch (error) {
    db?.close();
    throw translateSqliteError(error, path);
  }
}

function migrate(db: Db, from: number, initialise?: (db: Db) => void): void {
  db.transaction(() => {
    for (let v = from; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v] ?? '');
    if (from === 0) initialise?.(db);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
