/**
 * The records messages share: items (certificates, CRLs) with their metadata, tombstones,
 * list entries, per-item results. spec/protocol.md, "Shared records".
 */

import { ERROR_CODES, isErrorCode, type ErrorCode } from '../errors.ts';
import type { CborValue } from '../wire/cbor.ts';
import {
  arrayOf,
  bool,
  bytes,
  enumOf,
  int,
  opt,
  record,
  req,
  text,
  uint,
  type RecordValue,
  type Schema,
} from './schema.ts';

const codeText = text(64);

/**
 * An error code from the closed set (protocol/errors.ts). A code this version does not know
 * (a newer peer's) is read as `internal`, so new codes never break older receivers.
 */
export const errorCode: Schema<ErrorCode> = {
  shape: { kind: 'text', max: 64, oneOf: Object.keys(ERROR_CODES) },
  cddl: 'error-code',
  decode: (v: CborValue, path: string): ErrorCode => {
    const s = codeText.decode(v, path);
    return isErrorCode(s) ? s : 'internal';
  },
  encode: (v) => v,
};

/** Longest label, subject, name or reason text, in UTF-8 bytes. */
export const MAX_NAME_BYTES = 1_024;
/** Most e-mail addresses listed for one certificate. */
export const MAX_EMAILS = 32;

/**
 * An item's identity: SHA-256 over its DER bytes (spec/protocol.md, "Item identity"). The
 * reconciliation digests and sketches name items by the same 32 bytes.
 */
export const itemId = bytes(32, 32);

/** What an item is. `key` (a private key) only crosses a paired, encrypted session. */
export const itemKind = enumOf<ItemKind>({ cert: 1, crl: 2, key: 3 });
/** An item kind's name; `cert` and `crl` are the kinds of protocol/merge/entry.ts. */
export type ItemKind = 'cert' | 'crl' | 'key';

/** A store's 16-byte origin id (spec/reconcile.md, "Entries"). */
export const originId = bytes(16, 16);

const itemFields = {
  kind: req(0, itemKind, 'what the DER bytes hold'),
  der: opt(1, bytes(1, 196_000), 'the item byte for byte as first received'),
  label: opt(2, text(MAX_NAME_BYTES), 'a name the user gave it; absent: none'),
  pinned: req(3, bool, 'the user asked to keep it: never evicted by the lru policy'),
  clock: req(4, uint(), 'Lamport clock of the version (spec/reconcile.md, "Merge rule")'),
  origin: req(5, originId, 'origin id of the store that made the version'),
  addedAt: opt(6, uint(), 'when it entered the sending store, ms since 1970-01-01 UTC'),
  useCount: opt(7, uint(), 'how often the sending side used it to encrypt or verify'),
  lastUsedAt: opt(8, uint(), 'when the sending side last used it, ms since 1970'),
  id: opt(9, itemId, 'instead of der in a metadata-only update'),
};

/** A certificate, CRL or key with the metadata that travels with it. */
export const item = record('item', itemFields, {
  doc: 'exactly one of der (1) and id (9) is present',
  check: (v) => (v.der === undefined) !== (v.id === undefined),
});
/** A transferred item. */
export type Item = RecordValue<typeof itemFields>;

const tombstoneFields = {
  kind: req(0, itemKind, 'what the deleted item was'),
  id: req(1, itemId, 'the deleted item'),
  clock: req(4, uint(), 'Lamport clock of the deletion'),
  origin: req(5, originId, 'origin id of the store that deleted it'),
  deletedAt: req(9, uint(), 'when it was deleted, ms since 1970-01-01 UTC'),
};

/** The record that an item was deleted, so the deletion reaches other stores. */
export const tombstone = record('tombstone', tombstoneFields);
/** A transferred deletion. */
export type Tombstone = RecordValue<typeof tombstoneFields>;

const entryFields = {
  id: req(0, itemId, 'item identity'),
  kind: req(1, itemKind, 'what it is'),
  subject: req(2, text(MAX_NAME_BYTES), 'subject DN (a CRL: its issuer DN), RFC 4514 form'),
  issuer: req(3, text(MAX_NAME_BYTES), 'issuer DN, RFC 4514 form'),
  emails: req(4, arrayOf(text(320), MAX_EMAILS), 'e-mail addresses it names'),
  notBefore: req(5, int, 'validity start (a CRL: thisUpdate), ms since 1970'),
  notAfter: req(6, int, 'validity end (a CRL: nextUpdate, or 0 if none), ms since 1970'),
  label: opt(7, text(MAX_NAME_BYTES), 'a name the user gave it'),
  contact: opt(8, text(MAX_NAME_BYTES), 'name of the matching address-book contact'),
  pinned: req(9, bool, 'never evicted by the lru policy'),
  useCount: req(10, uint(), 'how often it was used'),
  addedAt: req(11, uint(), 'when it entered the store, ms since 1970'),
  lastUsedAt: opt(12, uint(), 'when it was last used, ms since 1970'),
  size: req(13, uint(), 'length of its DER bytes'),
};

/** One line of a store listing: what a user sees, without the DER bytes. */
export const listEntry = record('list-entry', entryFields);
/** A listed item. */
export type ListEntry = RecordValue<typeof entryFields>;

/** What a receiver did with one transferred item (spec/protocol.md, "items-ack"). */
export const itemOutcome = enumOf<ItemOutcome>({
  stored: 0,
  updated: 1,
  unchanged: 2,
  refused: 3,
  invalid: 4,
  deleted: 5,
  'not-found': 6,
});
/** An item outcome's name. */
export type ItemOutcome =
  'stored' | 'updated' | 'unchanged' | 'refused' | 'invalid' | 'deleted' | 'not-found';

const resultFields = {
  id: req(0, itemId, 'the item'),
  outcome: req(1, itemOutcome, 'what the receiver did'),
  replaced: opt(2, itemId, 'the item this one replaced (update mode, or an overflow victim)'),
  code: opt(3, errorCode, 'why, when refused or invalid: a code from the closed set'),
};

/** The outcome for one item. */
export const itemResult = record('item-result', resultFields);
/** One item's outcome. */
export type ItemResult = RecordValue<typeof resultFields>;

const summaryFields = {
  certificates: req(0, uint(), 'live certificates held'),
  crls: req(1, uint(), 'live CRLs held'),
  capacity: opt(2, uint(), 'most items the store may hold; absent: unlimited'),
  free: opt(3, uint(), 'items that fit before it is full; absent: unlimited'),
  digest: req(4, bytes(0, 1_024), 'store digest, bytes as spec/reconcile.md defines them'),
};

/** How full a store is and its digest, as sent in hello. */
export const storeSummary = record('store-summary', summaryFields);
/** A store summary. */
export type StoreSummary = RecordValue<typeof summaryFields>;
