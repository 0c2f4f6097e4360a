/**
 * The store's SQLite schema and its migrations. SCHEMA.md beside this file explains every
 * table; the SQL here is the authority.
 *
 * A migration is appended, never edited: migration N (1-based) brings a store from
 * `PRAGMA user_version` N-1 to N, inside the transaction that opens the store.
 */

/** `PRAGMA application_id` of every certsync store: "CSyn". Tells our files from others. */
export const APPLICATION_ID = 0x4353796e;

/** Each entry upgrades the schema by one version. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    store_id BLOB NOT NULL CHECK (length(store_id) = 16),
    clock INTEGER NOT NULL,
    touch INTEGER NOT NULL,
    capacity INTEGER CHECK (capacity IS NULL OR capacity >= 0),
    policy TEXT NOT NULL CHECK (policy IN ('lru', 'alert', 'refuse')),
    created_at INTEGER NOT NULL
  );

  CREATE TABLE certificates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint BLOB NOT NULL UNIQUE CHECK (length(fingerprint) = 32),
    der BLOB NOT NULL,
    subject TEXT NOT NULL,
    subject_der BLOB NOT NULL,
    issuer TEXT NOT NULL,
    issuer_der BLOB NOT NULL,
    common_name TEXT,
    serial TEXT NOT NULL,
    not_before INTEGER NOT NULL,
    not_after INTEGER NOT NULL,
    key_algorithm TEXT NOT NULL,
    key_size INTEGER,
    is_ca INTEGER NOT NULL,
    added_at INTEGER NOT NULL,
    source TEXT NOT NULL,
    last_used_at INTEGER,
    use_count INTEGER NOT NULL DEFAULT 0,
    touch INTEGER NOT NULL,
    label TEXT,
    pinned INTEGER NOT NULL DEFAULT 0,
    clock INTEGER NOT NULL,
    origin BLOB NOT NULL CHECK (length(origin) = 16),
    seq INTEGER NOT NULL
  );
  CREATE INDEX certificates_lru ON certificates (pinned, touch, fingerprint);
  CREATE INDEX certificates_seq ON certificates (seq);
  CREATE INDEX certificates_subject ON certificates (subject_der);
  CREATE INDEX certificates_issuer_serial ON certificates (issuer_der, serial);

  CREATE TABLE certificate_emails (
    fingerprint BLOB NOT NULL REFERENCES certificates (fingerprint) ON DELETE CASCADE,
    email TEXT NOT NULL,
    PRIMARY KEY (fingerprint, email)
  ) WITHOUT ROWID;
  CREATE INDEX certificate_emails_email ON certificate_emails (email);

  CREATE TABLE crls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint BLOB NOT NULL UNIQUE CHECK (length(fingerprint) = 32),
    der BLOB NOT NULL,
    issuer TEXT NOT NULL,
    issuer_der BLOB NOT NULL,
    this_update INTEGER NOT NULL,
    next_update INTEGER,
    added_at INTEGER NOT NULL,
    source TEXT NOT NULL,
    clock INTEGER NOT NULL,
    origin BLOB NOT NULL CHECK (length(origin) = 16),
    seq INTEGER NOT NULL
  );
  CREATE INDEX crls_issuer ON crls (issuer_der);
  CREATE INDEX crls_seq ON crls (seq);

  CREATE TABLE crl_entries (
    crl_fingerprint BLOB NOT NULL REFERENCES crls (fingerprint) ON DELETE CASCADE,
    serial TEXT NOT NULL,
    revoked_at INTEGER NOT NULL,
    PRIMARY KEY (crl_fingerprint, serial)
  ) WITHOUT ROWID;

  CREATE TABLE tombstones (
    kind TEXT NOT NULL CHECK (kind IN ('cert', 'crl')),
    fingerprint BLOB NOT NULL CHECK (length(fingerprint) = 32),
    clock INTEGER NOT NULL,
    origin BLOB NOT NULL CHECK (length(origin) = 16),
    seq INTEGER NOT NULL,
    deleted_at INTEGER NOT NULL,
    PRIMARY KEY (kind, fingerprint)
  ) WITHOUT ROWID;
  CREATE INDEX tombstones_seq ON tombstones (seq);

  CREATE TABLE identity (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    x25519_public BLOB NOT NULL,
    x25519_private BLOB NOT NULL,
    ed25519_public BLOB NOT NULL,
    ed25519_private BLOB NOT NULL,
    created_at INTEGER NOT NULL
  );

  CREATE TABLE peers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    identity_key BLOB NOT NULL UNIQUE,
    paired_at INTEGER NOT NULL,
    acked_counter INTEGER NOT NULL DEFAULT 0,
    remote_counter INTEGER NOT NULL DEFAULT 0,
    last_sync_at INTEGER
  );

  CREATE TABLE private_keys (
    fingerprint BLOB PRIMARY KEY CHECK (length(fingerprint) = 32),
    encrypted BLOB NOT NULL,
    added_at INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE contacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    added_at INTEGER NOT NULL,
    UNIQUE (name, email)
  );
  CREATE INDEX contacts_email ON contacts (email);
  `,
];

/** The schema version this code writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.length;
