/**
 * The persistent certificate store. See store.ts for the entry point and SCHEMA.md for the
 * file layout.
 */
export {
  Capacity,
  MAX_ALERT_CANDIDATES,
  OVERFLOW_POLICIES,
  OverflowAlert,
  type CapacityState,
  type EvictionPlan,
  type OverflowPolicy,
} from './capacity.ts';
export type { CertificateRecord } from './certificate-record.ts';
export {
  Certificates,
  LIST_ORDERS,
  type AddOptions,
  type AddResult,
  type CertificateMeta,
  type ListOrder,
} from './certificates.ts';
export { Contacts, type ContactEntry } from './contacts.ts';
export { Crls, type CrlRecord, type Revocation } from './crls.ts';
export { DEFAULT_BUSY_TIMEOUT_MS } from './database.ts';
export type { StoreIdentity } from './identity.ts';
export { Peers, type Peer } from './peers.ts';
export { PrivateKeys } from './private-keys.ts';
export { SCHEMA_VERSION } from './schema.ts';
export { SETTING_DEFAULTS, Settings, type KnownSettings, type SettingValue } from './settings.ts';
export { Store, type StoreOpenOptions } from './store.ts';
export {
  compareStamps,
  SyncLog,
  TOMBSTONE_MIN_AGE_MS,
  type ApplyOutcome,
  type EntryKind,
  type RemoteRecord,
  type SyncEntry,
  type SyncRecord,
} from './sync-log.ts';
