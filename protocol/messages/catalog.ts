/**
 * Every message of protocol version 1: its type code, payload schema and meaning
 * (spec/protocol.md, "Messages"; spec/messages.cddl is generated from this table).
 *
 * Type codes: 1–15 session, 16–31 reconciliation (payloads in spec/reconcile.md),
 * 32–63 store operations, 64–127 reserved for must-understand messages of later versions,
 * 128 and up extensions a receiver may skip (spec/protocol.md, "Unknown types").
 */

import { DEFAULT_LIMITS, MIN_FRAME_BYTES } from '../wire/limits.ts';
import {
  errorCode,
  item,
  itemId,
  itemResult,
  listEntry,
  MAX_NAME_BYTES,
  storeSummary,
  tombstone,
} from './records.ts';
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
  tuple,
  uint,
  type RecordSchema,
  type RecordValue,
} from './schema.ts';

/** Most entries in one list page, items in one batch, ids in one request. */
export const MAX_PAGE_ENTRIES = 512;
/** Most overflow victims offered in one alert. */
export const MAX_OVERFLOW_CANDIDATES = 16;
/** Request ids and transfer ids are below this. */
export const MAX_REQUEST_ID = 0xffff_ffff;

const requestId = uint(MAX_REQUEST_ID);
const MAX_FRAME_BYTES = DEFAULT_LIMITS.maxFrameBytes;

/** Store orders a listing can use (MISSION: store order, use, subject, contact name). */
export const listOrder = enumOf<ListOrder>({
  store: 0,
  use: 1,
  subject: 2,
  contact: 3,
});

/** Which items a listing or a pull covers. */
export const selectionFilter = enumOf<SelectionFilter>({ all: 0, lacking: 1 });

/** How a receiver stores a transfer (spec/protocol.md, "Transfer modes"). */
export const transferMode = enumOf<TransferMode>({ add: 0, update: 1, 'replace-all': 2 });
/** A transfer mode's name. */
export type TransferMode = 'add' | 'update' | 'replace-all';
/** A list order's name. */
export type ListOrder = 'store' | 'use' | 'subject' | 'contact';
/** A selection filter's name. */
export type SelectionFilter = 'all' | 'lacking';
/** A validity verdict's name. */
export type ValidityStatus =
  'valid' | 'expired' | 'not-yet-valid' | 'revoked' | 'untrusted' | 'unknown';

/** When a side starts a reconcile: right after hello, or when its user asks. */
export const syncStart = enumOf<'auto' | 'on-request'>({ auto: 0, 'on-request': 1 });

/** The verdict of a validity check on one certificate or CRL. */
export const validityStatus = enumOf<ValidityStatus>({
  valid: 0,
  expired: 1,
  'not-yet-valid': 2,
  revoked: 3,
  untrusted: 4,
  unknown: 5,
});

const validityFields = {
  id: req(0, itemId, 'the checked item'),
  status: req(1, validityStatus, 'the verdict'),
  reason: opt(2, text(MAX_NAME_BYTES), 'for a person: why, e.g. the revocation reason'),
};
const validityResult = record('validity-result', validityFields);
/** One item's validity verdict. */
export type ValidityResult = RecordValue<typeof validityFields>;

/** The catalog: message name -> type code and payload record. */
export const MESSAGES = {
  hello: {
    code: 1,
    schema: record('hello', {
      versions: req(0, tuple(uint(0xffff), uint(0xffff)), 'lowest and highest version spoken'),
      capabilities: req(1, arrayOf(uint(0xffff), 32), 'codes of optional features (1 reconcile)'),
      summary: req(2, storeSummary, 'the sender store: counts, room and digest'),
      maxFrame: req(3, uint(MAX_FRAME_BYTES, MIN_FRAME_BYTES), 'largest frame the sender accepts'),
      sync: req(4, syncStart, 'whether the sender starts a reconcile by itself'),
      name: opt(5, text(MAX_NAME_BYTES), 'a device name to show the user'),
    }),
  },
  goodbye: {
    code: 2,
    schema: record('goodbye', {
      reason: opt(0, text(MAX_NAME_BYTES), 'for a person'),
    }),
  },
  error: {
    code: 3,
    schema: record('error', {
      code: req(0, errorCode, 'stable code from the closed set'),
      message: req(1, text(MAX_NAME_BYTES), 'for a person: what was wrong'),
      inReplyTo: opt(2, requestId, 'the request or transfer this refuses'),
      fatal: req(3, bool, 'true: the sender closes the session after this message'),
    }),
  },
  'list-request': {
    code: 32,
    schema: record('list-request', {
      id: req(0, requestId, 'request id, echoed in the answer'),
      order: req(1, listOrder, 'sort order'),
      filter: req(2, selectionFilter, 'all, or only what the requester lacks'),
      cursor: opt(3, bytes(1, 256), 'from a previous page; absent for the first page'),
      limit: req(4, uint(MAX_PAGE_ENTRIES, 1), 'most entries wanted in the page'),
    }),
  },
  'list-page': {
    code: 33,
    schema: record('list-page', {
      id: req(0, requestId, 'the request answered'),
      entries: req(1, arrayOf(listEntry, MAX_PAGE_ENTRIES), 'in the requested order'),
      next: opt(2, bytes(1, 256), 'cursor of the next page; absent on the last page'),
      total: req(3, uint(), 'entries the whole listing holds'),
    }),
  },
  'transfer-begin': {
    code: 40,
    schema: record('transfer-begin', {
      id: req(0, requestId, 'transfer id (a pull: the pull request id)'),
      mode: req(1, transferMode, 'how the receiver stores the items'),
      items: req(2, uint(), 'most items and tombstones that follow'),
    }),
  },
  items: {
    code: 41,
    schema: record('items', {
      id: req(0, requestId, 'transfer id'),
      seq: req(1, uint(), 'batch number, from 0, one more per batch'),
      items: req(2, arrayOf(item, MAX_PAGE_ENTRIES), 'certificates, CRLs, keys'),
      tombstones: req(3, arrayOf(tombstone, MAX_PAGE_ENTRIES), 'deletions'),
    }),
  },
  'transfer-end': {
    code: 42,
    schema: record('transfer-end', {
      id: req(0, requestId, 'transfer id'),
      batches: req(1, uint(), 'batches sent'),
    }),
  },
  'items-ack': {
    code: 43,
    schema: record('items-ack', {
      id: req(0, requestId, 'transfer id'),
      seq: req(1, uint(), 'the batch acknowledged'),
      results: req(2, arrayOf(itemResult, 2 * MAX_PAGE_ENTRIES), 'one per item and tombstone'),
    }),
  },
  'transfer-done': {
    code: 44,
    schema: record('transfer-done', {
      id: req(0, requestId, 'transfer id'),
      aborted: req(1, bool, 'true when an overflow answer or an error ended it early'),
      removed: req(2, uint(), 'items removed to make a replace-all'),
    }),
  },
  'pull-request': {
    code: 45,
    schema: record('pull-request', {
      id: req(0, requestId, 'becomes the transfer id of the answering transfer'),
      mode: req(1, transferMode, 'how the requester will store the items'),
      filter: req(2, selectionFilter, 'all (with ids: those), or what the requester lacks'),
      ids: opt(3, arrayOf(itemId, MAX_PAGE_ENTRIES), 'the items wanted; absent: by filter'),
    }),
  },
  'delete-request': {
    code: 48,
    schema: record('delete-request', {
      id: req(0, requestId, 'request id'),
      ids: req(1, arrayOf(itemId, MAX_PAGE_ENTRIES), 'items to delete on the receiver'),
    }),
  },
  'delete-result': {
    code: 49,
    schema: record('delete-result', {
      id: req(0, requestId, 'the request answered'),
      results: req(1, arrayOf(itemResult, MAX_PAGE_ENTRIES), 'deleted, not-found or refused'),
    }),
  },
  'overflow-alert': {
    code: 50,
    schema: record('overflow-alert', {
      id: req(0, requestId, 'transfer id'),
      incoming: req(1, itemId, 'the item that does not fit'),
      candidates: req(2, arrayOf(listEntry, MAX_OVERFLOW_CANDIDATES), 'victims, best first'),
    }),
  },
  'overflow-answer': {
    code: 51,
    schema: record('overflow-answer', {
      id: req(0, requestId, 'transfer id'),
      victim: opt(1, itemId, 'evict this candidate; absent: abort the transfer'),
    }),
  },
  'validity-report': {
    code: 56,
    schema: record('validity-report', {
      checkedAt: req(0, int, 'when the check ran, ms since 1970'),
      results: req(1, arrayOf(validityResult, MAX_PAGE_ENTRIES), 'one per checked item'),
    }),
  },
} as const satisfies Record<string, { code: number; schema: RecordSchema<unknown> }>;

/** A message name. */
export type MessageName = keyof typeof MESSAGES;

/** A decoded message: its payload fields plus `type`. */
export type Message = {
  [N in MessageName]: { type: N } & ((typeof MESSAGES)[N]['schema'] extends RecordSchema<infer P>
    ? P
    : never);
}[MessageName];

/** The message of one name. */
export type MessageOf<N extends MessageName> = Extract<Message, { type: N }>;

/** First and last type codes reserved for reconciliation messages (spec/reconcile.md). */
export const RECONCILE_TYPES = Object.freeze({ first: 16, last: 31 });

/** The type code of a message name. */
export function typeCodeOf(name: MessageName): number {
  return MESSAGES[name].code;
}

/** The message name of a type code, or undefined when this version does not know it. */
export function messageNameOf(code: number): MessageName | undefined {
  for (const name of Object.keys(MESSAGES) as MessageName[]) {
    if (MESSAGES[name].code === code) return name;
  }
  return undefined;
}
