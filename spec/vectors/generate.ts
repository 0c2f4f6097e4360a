/**
 * Writes spec/vectors/messages.json, reconcile.json and session-*.json from the implementation.
 * Run only when the protocol changes on purpose:
 *   node --import tsx spec/vectors/generate.ts
 * spec/vectors/vectors.test.ts then checks the implementation against the written files.
 */

import { writeFileSync } from 'node:fs';

import type { Message } from '../../protocol/messages/catalog.ts';
import { encodeMessage } from '../../protocol/messages/codec.ts';
import { toJsonForm, type Json } from '../../protocol/messages/json-form.ts';
import type { Item, ListEntry, Tombstone } from '../../protocol/messages/records.ts';
import { RECONCILE_CAPABILITY } from '../../protocol/session/engine.ts';
import { encodeCbor, type CborValue } from '../../protocol/wire/cbor.ts';
import { hexOf } from '../../protocol/wire/hex.ts';
import { DEFAULT_LIMITS } from '../../protocol/wire/limits.ts';
import { reconcileVectors } from './reconcile-vectors.ts';
import { recordReconcileSession, recordSession } from './session-script.ts';

const id = (b: number) => new Uint8Array(32).fill(b);
const origin = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
const der = Uint8Array.from([
  0x30, 0x0a, 0x30, 0x03, 0x02, 0x01, 0x01, 0x04, 0x03, 0x41, 0x42, 0x43,
]);

const item: Item = {
  kind: 'cert',
  der,
  label: 'Alice (work)',
  pinned: false,
  clock: 42,
  origin,
  addedAt: 1_764_700_000_000,
  useCount: 7,
  lastUsedAt: 1_764_790_000_000,
};
const metaOnly: Item = { kind: 'cert', id: id(0x11), pinned: true, clock: 43, origin };
const tombstone: Tombstone = {
  kind: 'crl',
  id: id(0x22),
  clock: 44,
  origin,
  deletedAt: 1_764_800_000_000,
};
const entry: ListEntry = {
  id: id(0x11),
  kind: 'cert',
  subject: 'CN=Alice Example,O=Example',
  issuer: 'CN=Example CA,O=Example',
  emails: ['alice@example.org'],
  notBefore: 1_735_689_600_000,
  notAfter: 1_798_761_600_000,
  contact: 'Alice',
  pinned: false,
  useCount: 7,
  addedAt: 1_764_700_000_000,
  size: 1_187,
};

const samples: { name: string; note: string; message: Message }[] = [
  {
    name: 'hello',
    note: 'versions 1..1, a capacity-limited store, auto reconcile',
    message: {
      type: 'hello',
      versions: [1, 1],
      capabilities: [RECONCILE_CAPABILITY],
      summary: {
        certificates: 120,
        crls: 3,
        capacity: 200,
        free: 77,
        digest: Uint8Array.of(1, 2, 3, 4),
      },
      maxFrame: 4096,
      sync: 'auto',
      name: 'Phone',
    },
  },
  {
    name: 'hello-unlimited',
    note: 'no capacity, no name, reconcile on request',
    message: {
      type: 'hello',
      versions: [1, 3],
      capabilities: [],
      summary: { certificates: 0, crls: 0, digest: new Uint8Array(0) },
      maxFrame: 262_144,
      sync: 'on-request',
    },
  },
  { name: 'goodbye', note: 'with a reason', message: { type: 'goodbye', reason: 'user closed' } },
  { name: 'goodbye-empty', note: 'the shortest frame', message: { type: 'goodbye' } },
  {
    name: 'error-fatal',
    note: 'a protocol violation',
    message: {
      type: 'error',
      code: 'unexpected-message',
      message: 'items before transfer-begin',
      fatal: true,
    },
  },
  {
    name: 'error-refusal',
    note: 'refuses request 9, the session goes on',
    message: {
      type: 'error',
      code: 'not-found',
      message: 'no such item',
      inReplyTo: 9,
      fatal: false,
    },
  },
  {
    name: 'list-request',
    note: 'first page by use',
    message: {
      type: 'list-request',
      id: 1,
      order: 'use',
      filter: 'all',
      limit: 50,
    },
  },
  {
    name: 'list-request-next',
    note: 'next page of what the requester lacks',
    message: {
      type: 'list-request',
      id: 2,
      order: 'subject',
      filter: 'lacking',
      cursor: Uint8Array.of(0, 50),
      limit: 50,
    },
  },
  {
    name: 'list-page',
    note: 'one entry and a cursor',
    message: {
      type: 'list-page',
      id: 1,
      entries: [entry],
      next: Uint8Array.of(0, 1),
      total: 2,
    },
  },
  {
    name: 'transfer-begin',
    note: 'an update of 2 items',
    message: {
      type: 'transfer-begin',
      id: 5,
      mode: 'update',
      items: 2,
    },
  },
  {
    name: 'items',
    note: 'a full item, a metadata-only update and a tombstone',
    message: {
      type: 'items',
      id: 5,
      seq: 0,
      items: [item, metaOnly],
      tombstones: [tombstone],
    },
  },
  {
    name: 'transfer-end',
    note: 'after one batch',
    message: { type: 'transfer-end', id: 5, batches: 1 },
  },
  {
    name: 'items-ack',
    note: 'one result per entry',
    message: {
      type: 'items-ack',
      id: 5,
      seq: 0,
      results: [
        { id: id(0x33), outcome: 'updated', replaced: id(0x44) },
        { id: id(0x11), outcome: 'refused', code: 'store-full' },
        { id: id(0x22), outcome: 'deleted' },
      ],
    },
  },
  {
    name: 'transfer-done',
    note: 'a replace-all that removed 12 items',
    message: {
      type: 'transfer-done',
      id: 5,
      aborted: false,
      removed: 12,
    },
  },
  {
    name: 'pull-request',
    note: 'by ids',
    message: {
      type: 'pull-request',
      id: 6,
      mode: 'add',
      filter: 'all',
      ids: [id(0x11)],
    },
  },
  {
    name: 'pull-request-lacking',
    note: 'everything the requester lacks',
    message: {
      type: 'pull-request',
      id: 7,
      mode: 'add',
      filter: 'lacking',
    },
  },
  {
    name: 'delete-request',
    note: 'two items',
    message: { type: 'delete-request', id: 8, ids: [id(0x11), id(0x55)] },
  },
  {
    name: 'delete-result',
    note: 'one deleted, one unknown',
    message: {
      type: 'delete-result',
      id: 8,
      results: [
        { id: id(0x11), outcome: 'deleted' },
        { id: id(0x55), outcome: 'not-found' },
      ],
    },
  },
  {
    name: 'overflow-alert',
    note: 'one candidate victim',
    message: {
      type: 'overflow-alert',
      id: 5,
      incoming: id(0x33),
      candidates: [entry],
    },
  },
  {
    name: 'overflow-answer',
    note: 'evict this victim',
    message: { type: 'overflow-answer', id: 5, victim: id(0x11) },
  },
  {
    name: 'overflow-answer-abort',
    note: 'no victim: abort the transfer',
    message: { type: 'overflow-answer', id: 5 },
  },
  {
    name: 'validity-report',
    note: 'one revoked, one valid',
    message: {
      type: 'validity-report',
      checkedAt: 1_764_800_000_000,
      results: [
        { id: id(0x11), status: 'revoked', reason: 'keyCompromise' },
        { id: id(0x66), status: 'valid' },
      ],
    },
  },
];

const hexCbor = (v: CborValue) => hexOf(encodeCbor(v));
const invalid: { hex: string; error: string; why: string }[] = [
  { hex: '', error: 'malformed-message', why: 'empty frame' },
  { hex: hexCbor([1, 2]), error: 'malformed-message', why: 'envelope of two elements' },
  { hex: '830102bf00f5ff', error: 'malformed-message', why: 'indefinite-length map' },
  { hex: '830102a1001801', error: 'malformed-message', why: 'integer not in shortest form' },
  { hex: '830102a20001000161', error: 'malformed-message', why: 'map keys duplicated' },
  { hex: '830102a100c000', error: 'malformed-message', why: 'tag' },
  { hex: '830102a100fb3ff0000000000000', error: 'malformed-message', why: 'float' },
  { hex: '830102a10062c328', error: 'malformed-message', why: 'text not UTF-8' },
  {
    hex: hexCbor([
      1,
      2,
      new Map<number, CborValue>([
        [0, 'x'],
        [-3, 1],
      ]),
    ]),
    error: 'malformed-message',
    why: 'unknown must-understand field -3',
  },
  {
    hex: hexCbor([
      1,
      3,
      new Map<number, CborValue>([
        [1, 'm'],
        [3, true],
      ]),
    ]),
    error: 'malformed-message',
    why: 'error without its code',
  },
  { hex: hexCbor([1, 4, new Map()]), error: 'unknown-message', why: 'unknown type 4, below 128' },
  { hex: '8301027affffffff', error: 'limit-exceeded', why: 'text claiming 4 GiB' },
  {
    hex: '830118299b0000000100000000',
    error: 'limit-exceeded',
    why: 'array claiming 2^32 elements',
  },
  { hex: '83010281818181818181818180', error: 'limit-exceeded', why: 'nesting deeper than 8' },
  { hex: '8301021b0020000000000000', error: 'limit-exceeded', why: 'integer beyond 2^53 - 1' },
];
const ignorable = {
  hex: hexCbor([1, 200, new Map([[0, 'future']])]),
  why: 'type 200 is an extension: skipped',
};

const file = {
  description:
    'certsync protocol version 1 message vectors (spec/protocol.md, "Test vectors"). ' +
    'Each valid vector: the frame in hex and the decoded message in JSON form ' +
    '(byte strings as {"hex": ...}); encoding the value must give the hex, decoding the hex ' +
    'must give the value. Each invalid vector: a frame a decoder must reject with the code.',
  version: 1,
  valid: samples.map((s) => ({
    name: s.name,
    note: s.note,
    hex: hexOf(encodeMessage(1, s.message, DEFAULT_LIMITS)),
    value: toJsonForm(s.message),
  })),
  invalid,
  ignorable: [ignorable],
} satisfies Record<string, Json>;

const dir = new URL('./', import.meta.url);
writeFileSync(new URL('messages.json', dir), JSON.stringify(file, null, 2) + '\n');
writeFileSync(
  new URL('session-transfer.json', dir),
  JSON.stringify(recordSession(), null, 2) + '\n',
);
writeFileSync(
  new URL('session-reconcile.json', dir),
  JSON.stringify(recordReconcileSession(), null, 2) + '\n',
);
writeFileSync(new URL('reconcile.json', dir), JSON.stringify(reconcileVectors(), null, 2) + '\n');
