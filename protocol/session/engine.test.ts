import assert from 'node:assert/strict';
import test from 'node:test';

import type { ErrorCode } from '../errors.ts';
import { decodeFrame, encodeMessage } from '../messages/codec.ts';
import type { Message } from '../messages/catalog.ts';
import type { Item } from '../messages/records.ts';
import { encodeCbor } from '../wire/cbor.ts';
import { DEFAULT_LIMITS, withFrameLimit } from '../wire/limits.ts';
import { canStart } from './engine.ts';
import { exchange, Side, testConfig } from './harness.ts';
import { MemoryStore } from './memory-store.ts';
import { bytesOf } from '../wire/hex.ts';
import type { SessionConfig } from './types.ts';

const origin = new Uint8Array(16).fill(7);

function item(n: number, over: Partial<Item> = {}): Item {
  const der = new Uint8Array(40).fill(n & 0xff);
  der[0] = n >> 8;
  return {
    kind: 'cert',
    der,
    label: `cert ${n}`,
    pinned: false,
    clock: n,
    origin,
    useCount: n,
    ...over,
  };
}

function pair(
  aStore = new MemoryStore(),
  bStore = new MemoryStore(),
  aOver: Partial<SessionConfig> = {},
  bOver: Partial<SessionConfig> = {},
) {
  const a = new Side('a', testConfig(aOver), { store: aStore });
  const b = new Side('b', testConfig(bOver), { store: bStore });
  a.feed({ kind: 'start', now: 0 });
  b.feed({ kind: 'start', now: 0 });
  exchange(a, b, 0);
  return { a, b, aStore, bStore };
}

/** The messages in a side's outbox, decoded, emptying it. */
function drain(side: Side): Message[] {
  return side.outbox.splice(0).map((f) => {
    const d = decodeFrame(f, DEFAULT_LIMITS);
    assert.equal(d.kind, 'message');
    return (d as { message: Message }).message;
  });
}

function closedWith(side: Side, code: ErrorCode | null) {
  assert.equal(side.state.phase, 'closed');
  const close = side.seen('close').at(-1);
  assert.ok(close, 'a close effect');
  assert.equal(close.error?.code ?? null, code);
}

function sentFatal(side: Side, code: ErrorCode) {
  const last = drain(side).at(-1);
  assert.ok(last?.type === 'error' && last.fatal && last.code === code, JSON.stringify(last));
}

test('hellos negotiate the highest common version and the smaller frame limit', () => {
  const { a, b } = pair(
    undefined,
    undefined,
    { versions: { min: 1, max: 3 } },
    { versions: { min: 2, max: 5 }, limits: withFrameLimit(DEFAULT_LIMITS, 8192) },
  );
  for (const s of [a, b]) {
    assert.equal(s.state.phase, 'ready');
    assert.equal(s.state.version, 3);
    assert.equal(s.seen('ready')[0]?.version, 3);
  }
  assert.equal(a.state.sendLimits.maxFrameBytes, 8192);
  assert.equal(b.state.sendLimits.maxFrameBytes, 8192);
});

test('no common version: error no-common-version, then close', () => {
  const a = new Side('a', testConfig({ versions: { min: 1, max: 1 } }), {
    store: new MemoryStore(),
  });
  const b = new Side('b', testConfig({ versions: { min: 2, max: 2 } }), {
    store: new MemoryStore(),
  });
  a.feed({ kind: 'start', now: 0 });
  b.feed({ kind: 'start', now: 0 });
  const helloB = b.outbox.splice(0);
  for (const f of helloB) a.feed({ kind: 'frame', now: 1, frame: f });
  sentFatal(a, 'no-common-version');
  closedWith(a, 'no-common-version');
});

test('anything but hello or error before the hello is unexpected-message, then close', () => {
  const a = new Side('a', testConfig(), { store: new MemoryStore() });
  a.feed({ kind: 'start', now: 0 });
  a.outbox.splice(0);
  const req: Message = { type: 'list-request', id: 1, order: 'store', filter: 'all', limit: 5 };
  a.feed({ kind: 'frame', now: 1, frame: encodeMessage(1, req, DEFAULT_LIMITS) });
  sentFatal(a, 'unexpected-message');
  closedWith(a, 'unexpected-message');
});

test('a second hello is unexpected-message', () => {
  const { a } = pair();
  const c = new Side('c', testConfig(), { store: new MemoryStore() });
  c.feed({ kind: 'start', now: 1 });
  a.feed({ kind: 'frame', now: 1, frame: c.outbox.splice(0)[0] as Uint8Array });
  sentFatal(a, 'unexpected-message');
  closedWith(a, 'unexpected-message');
});

test('bad bytes from the peer become an error of the decoder code, then close', () => {
  const cases: [Uint8Array, ErrorCode][] = [
    [Uint8Array.of(0xff), 'malformed-message'],
    [encodeCbor([1, 99, new Map()]), 'unknown-message'],
    [Uint8Array.from(Buffer.from('8301027affffffff', 'hex')), 'limit-exceeded'],
    [new Uint8Array(DEFAULT_LIMITS.maxFrameBytes + 1), 'frame-too-large'],
  ];
  for (const [frame, code] of cases) {
    const { a } = pair();
    a.feed({ kind: 'frame', now: 5, frame });
    sentFatal(a, code);
    closedWith(a, code);
  }
});

test('an ignorable extension type is skipped in any phase', () => {
  const { a } = pair();
  a.feed({ kind: 'frame', now: 5, frame: encodeCbor([1, 200, new Map([[0, 'x']])]) });
  assert.equal(a.state.phase, 'ready');
  assert.equal(a.outbox.length, 0);
});

test('a frame of another version after the hellos is malformed-message', () => {
  const { a } = pair();
  a.feed({ kind: 'frame', now: 5, frame: encodeMessage(2, { type: 'goodbye' }, DEFAULT_LIMITS) });
  sentFatal(a, 'malformed-message');
});

test('the hello wait times out with timeout, then close; the engine reads no clock', () => {
  const a = new Side('a', testConfig(), { store: new MemoryStore() });
  a.feed({ kind: 'start', now: 1000 });
  assert.deepEqual(a.seen('set-timer').at(-1), { kind: 'set-timer', at: 16_000 });
  a.outbox.splice(0);
  a.feed({ kind: 'tick', now: 15_999 });
  assert.equal(a.state.phase, 'awaiting-hello');
  a.feed({ kind: 'tick', now: 16_000 });
  sentFatal(a, 'timeout');
  closedWith(a, 'timeout');
});

test('an unanswered request times out', () => {
  const { a } = pair();
  a.command(10, { op: 'list', order: 'store', filter: 'all', limit: 10 });
  a.outbox.splice(0);
  a.feed({ kind: 'tick', now: 10 + 30_000 });
  sentFatal(a, 'timeout');
});

test('list pages through the peer store with cursors', () => {
  const bStore = new MemoryStore();
  for (let i = 1; i <= 5; i++) bStore.put(item(i));
  const { a, b } = pair(undefined, bStore);
  a.command(1, { op: 'list', order: 'use', filter: 'all', limit: 3 });
  exchange(a, b, 1);
  const first = a.seen('list-page')[0]?.page;
  assert.deepEqual(
    first?.entries.map((e) => e.useCount),
    [5, 4, 3],
  );
  assert.equal(first?.total, 5);
  a.command(2, { op: 'list', order: 'use', filter: 'all', limit: 3, cursor: first?.next });
  exchange(a, b, 2);
  const second = a.seen('list-page')[1]?.page;
  assert.deepEqual(
    second?.entries.map((e) => e.useCount),
    [2, 1],
  );
  assert.equal(second?.next, undefined);
  assert.equal(a.state.requests.length, 0);
});

test('listing what the requester lacks before any reconcile is refused, session goes on', () => {
  const { a, b } = pair();
  a.command(1, { op: 'list', order: 'store', filter: 'lacking', limit: 3 });
  exchange(a, b, 1);
  const err = a.seen('peer-error')[0]?.error;
  assert.equal(err?.code, 'unexpected-message');
  assert.equal(err?.fatal, false);
  assert.equal(a.state.phase, 'ready');
  assert.equal(b.state.phase, 'ready');
});

test('a push streams many batches within the window and every item arrives once', () => {
  const aStore = new MemoryStore();
  const ids = Array.from({ length: 300 }, (_, i) => {
    const der = new Uint8Array(900);
    der.set([i >> 8, i & 0xff]);
    return aStore.put(item(i + 1, { der }));
  });
  const small = withFrameLimit(DEFAULT_LIMITS, 4096);
  const { a, b, bStore } = pair(aStore, undefined, {}, { limits: small });
  a.command(1, { op: 'push', mode: 'add', ids });
  // The window holds the sender to 4 unacknowledged batches.
  assert.equal(a.state.outbound?.unacked.length, 4);
  exchange(a, b, 2);
  assert.equal(bStore.live.size, 300);
  assert.equal(a.state.outbound, null);
  assert.equal(a.seen('transfer-done')[0]?.done.aborted, false);
  const acked = a.seen('items-acked').flatMap((e) => e.results);
  assert.equal(acked.length, 300);
  assert.ok(acked.every((r) => r.outcome === 'stored'));
});

test('overflow alert: the sender user picks a victim and the transfer continues', () => {
  const aStore = new MemoryStore();
  const ids = [aStore.put(item(10)), aStore.put(item(11))];
  const bStore = new MemoryStore(2, 'alert');
  bStore.put(item(1));
  const victim = bStore.put(item(2));
  const { a, b } = pair(aStore, bStore);
  a.command(1, { op: 'push', mode: 'add', ids });
  exchange(a, b, 1);
  const alert = a.seen('overflow-alert')[0]?.alert;
  assert.ok(alert);
  assert.equal(alert.candidates.length, 2);
  assert.equal(b.state.inbound?.waiting !== null, true);
  assert.equal(canStart(a.state, 'overflow-choice'), true);
  a.command(2, { op: 'overflow-choice', victim: bytesOf(victim) });
  exchange(a, b, 2);
  // The second item overflows again; abort it.
  assert.equal(a.seen('overflow-alert').length, 2);
  a.command(3, { op: 'overflow-choice', victim: null });
  exchange(a, b, 3);
  assert.equal(a.seen('transfer-done')[0]?.done.aborted, true);
  assert.equal(bStore.live.size, 2);
  assert.ok(bStore.live.has(ids[0] as string));
  assert.ok(!bStore.live.has(victim));
  assert.equal(a.state.outbound, null);
  assert.equal(b.state.inbound, null);
});

test('an overflow answer naming a victim that was not offered is unexpected-message', () => {
  const aStore = new MemoryStore();
  const ids = [aStore.put(item(10))];
  const bStore = new MemoryStore(1, 'alert');
  bStore.put(item(1));
  const { a, b } = pair(aStore, bStore);
  a.command(1, { op: 'push', mode: 'add', ids });
  exchange(a, b, 1);
  const answer: Message = { type: 'overflow-answer', id: 1, victim: new Uint8Array(32) };
  b.feed({ kind: 'frame', now: 2, frame: encodeMessage(1, answer, DEFAULT_LIMITS) });
  sentFatal(b, 'unexpected-message');
});

test('replace-all leaves the selection on the receiver, after offering its last copies back', () => {
  const aStore = new MemoryStore();
  const ids = [aStore.put(item(1)), aStore.put(item(2))];
  const bStore = new MemoryStore();
  bStore.put(item(1));
  const only = [bStore.put(item(3)), bStore.put(item(4))];
  const { a, b } = pair(aStore, bStore);
  a.command(1, { op: 'push', mode: 'replace-all', ids });
  exchange(a, b, 1);
  assert.deepEqual([...bStore.live.keys()].sort(), [...ids].sort());
  const sent = a.seen('transfer-done').filter((e) => e.direction === 'sent');
  assert.equal(sent[0]?.done.removed, 2);
  // The items only B held were offered to A first: no last copy is lost.
  for (const id of only) assert.ok(aStore.live.has(id));
  assert.equal(a.state.outbound, null);
  assert.equal(b.state.inbound, null);
  assert.equal(b.state.outbound, null);
});

test('replace-all keeps a last copy the sender could not take', () => {
  const aStore = new MemoryStore(2, 'refuse');
  const ids = [aStore.put(item(1)), aStore.put(item(2))];
  const bStore = new MemoryStore();
  const only = bStore.put(item(3));
  const { a, b } = pair(aStore, bStore);
  a.command(1, { op: 'push', mode: 'replace-all', ids });
  exchange(a, b, 1);
  assert.ok(bStore.live.has(only));
  assert.equal(bStore.live.size, 3);
  const sent = a.seen('transfer-done').filter((e) => e.direction === 'sent');
  assert.equal(sent[0]?.done.removed, 0);
});

test('a replace-all ending while the receiver sends removes only what the peer holds', () => {
  const aStore = new MemoryStore();
  const ids = [aStore.put(item(1))];
  const bStore = new MemoryStore();
  const bIds = Array.from({ length: 3 }, (_, i) => bStore.put(item(10 + i)));
  const { a, b } = pair(aStore, bStore);
  b.command(1, { op: 'push', mode: 'add', ids: bIds });
  a.command(1, { op: 'push', mode: 'replace-all', ids });
  exchange(a, b, 1);
  assert.ok(bStore.live.has(ids[0] as string));
  for (const id of bIds) assert.ok(aStore.live.has(id) || bStore.live.has(id));
  const removed = a.seen('transfer-done').find((e) => e.direction === 'sent')?.done.removed;
  // B held 4 live items after the transfer: whatever it kept, it did not remove.
  assert.equal(removed, 4 - bStore.live.size);
  assert.equal(b.state.inbound, null);
  assert.equal(a.state.outbound, null);
});

test('pull by filter all copies the whole peer store', () => {
  const bStore = new MemoryStore();
  for (let i = 1; i <= 20; i++) bStore.put(item(i));
  const { a, b, aStore } = pair(undefined, bStore);
  a.command(1, { op: 'pull', mode: 'add', filter: 'all' });
  exchange(a, b, 1);
  assert.equal(aStore.live.size, 20);
  assert.equal(a.seen('transfer-done')[0]?.direction, 'received');
  assert.equal(a.state.requests.length, 0);
});

test('a private key leaves only on a pull naming it, with export allowed', () => {
  const bStore = new MemoryStore();
  const key = bStore.put(item(9, { kind: 'key' }));
  const run = (exportPrivateKeys: boolean, ids?: Uint8Array[]) => {
    const aStore = new MemoryStore();
    const { a, b } = pair(aStore, bStore, {}, { exportPrivateKeys });
    a.command(1, { op: 'pull', mode: 'add', filter: 'all', ...(ids ? { ids } : {}) });
    exchange(a, b, 1);
    return { aStore, b };
  };
  assert.equal(run(true, [bytesOf(key)]).aStore.live.size, 1);
  assert.equal(run(false, [bytesOf(key)]).aStore.live.size, 0);
  const byFilter = run(true);
  assert.equal(byFilter.aStore.live.size, 0);
  const refused = byFilter.b.seen('items-acked').flatMap((e) => e.results);
  assert.equal(refused[0]?.code, 'private-key-refused');
});

test('a pushed private key is refused by the receiver that did not ask for it', () => {
  const aStore = new MemoryStore();
  const key = aStore.put(item(9, { kind: 'key' }));
  const { a, b, bStore } = pair(aStore);
  // Bypass the sender's own rule to see the receiver's.
  a.command(1, { op: 'push', mode: 'add', ids: [] });
  a.outbox.splice(0);
  const frames: Message[] = [
    { type: 'transfer-begin', id: 7, mode: 'add', items: 1 },
    { type: 'items', id: 7, seq: 0, items: [item(9, { kind: 'key' })], tombstones: [] },
    { type: 'transfer-end', id: 7, batches: 1 },
  ];
  for (const m of frames)
    b.feed({ kind: 'frame', now: 2, frame: encodeMessage(1, m, DEFAULT_LIMITS) });
  assert.equal(bStore.live.size, 0);
  const ack = drain(b).find((m) => m.type === 'items-ack');
  assert.ok(ack?.type === 'items-ack');
  assert.equal(ack.results[0]?.code, 'private-key-refused');
  assert.ok(key);
});

test('delete on the other side writes tombstones and reports per item', () => {
  const bStore = new MemoryStore();
  const id = bStore.put(item(1));
  const { a, b } = pair(undefined, bStore);
  a.command(1, { op: 'delete', ids: [bytesOf(id), new Uint8Array(32)] });
  exchange(a, b, 1);
  const r = a.seen('delete-result')[0]?.result.results.map((x) => x.outcome);
  assert.deepEqual(r, ['deleted', 'not-found']);
  assert.equal(bStore.live.size, 0);
  assert.equal(bStore.tombstones.size, 1);
});

test('a validity report reaches the other side', () => {
  const { a, b } = pair();
  const results = [{ id: new Uint8Array(32), status: 'revoked' as const, reason: 'keyCompromise' }];
  a.command(1, { op: 'report-validity', checkedAt: 99, results });
  exchange(a, b, 1);
  assert.deepEqual(b.seen('validity-report')[0]?.report.results, results);
});

test('stray answers and transfer frames are unexpected-message', () => {
  const strays: Message[] = [
    { type: 'list-page', id: 4, entries: [], total: 0 },
    { type: 'delete-result', id: 4, results: [] },
    { type: 'items-ack', id: 4, seq: 0, results: [] },
    { type: 'transfer-done', id: 4, aborted: false, removed: 0 },
    { type: 'items', id: 4, seq: 0, items: [], tombstones: [] },
    { type: 'transfer-end', id: 4, batches: 0 },
    { type: 'overflow-answer', id: 4 },
    { type: 'error', code: 'not-found', message: 'x', inReplyTo: 4, fatal: false },
  ];
  for (const m of strays) {
    const { a } = pair();
    a.feed({ kind: 'frame', now: 1, frame: encodeMessage(1, m, DEFAULT_LIMITS) });
    sentFatal(a, 'unexpected-message');
    closedWith(a, 'unexpected-message');
  }
});

test('items out of sequence are unexpected-message', () => {
  const { a } = pair();
  const frames: Message[] = [
    { type: 'transfer-begin', id: 2, mode: 'add', items: 1 },
    { type: 'items', id: 2, seq: 1, items: [item(1)], tombstones: [] },
  ];
  for (const m of frames)
    a.feed({ kind: 'frame', now: 1, frame: encodeMessage(1, m, DEFAULT_LIMITS) });
  sentFatal(a, 'unexpected-message');
});

test('an unpaired peer may send hello, goodbye and error only: anything else is not-paired', () => {
  const { a, b } = pair(undefined, undefined, { standing: 'unpaired' });
  b.command(1, { op: 'list', order: 'store', filter: 'all', limit: 5 });
  exchange(a, b, 1);
  closedWith(a, 'not-paired');
  closedWith(b, 'not-paired');
});

test('goodbye: the peer answers goodbye and both close cleanly', () => {
  const { a, b } = pair();
  a.command(1, { op: 'goodbye', reason: 'done' });
  assert.equal(a.state.phase, 'closing');
  exchange(a, b, 1);
  closedWith(a, null);
  closedWith(b, null);
});

test('a fatal error from the peer closes with its code', () => {
  const { a } = pair();
  const err: Message = { type: 'error', code: 'store-locked', message: 'busy', fatal: true };
  a.feed({ kind: 'frame', now: 1, frame: encodeMessage(1, err, DEFAULT_LIMITS) });
  assert.equal(a.outbox.length, 0);
  closedWith(a, 'store-locked');
});

test('the link closing mid-session closes with link-closed; commands after close throw', () => {
  const { a } = pair();
  a.feed({ kind: 'link-closed', now: 1 });
  closedWith(a, 'link-closed');
  assert.throws(() => a.command(2, { op: 'goodbye' }), RangeError);
});

test('a second push while one runs is a caller mistake (RangeError)', () => {
  const aStore = new MemoryStore();
  const ids = Array.from({ length: 10 }, (_, i) => aStore.put(item(i + 1)));
  const { a } = pair(aStore);
  a.command(1, { op: 'push', mode: 'add', ids });
  assert.equal(canStart(a.state, 'push'), false);
  assert.throws(() => a.command(1, { op: 'push', mode: 'add', ids }), RangeError);
});

test('after our goodbye, other frames are discarded unread until the peer goodbye', () => {
  const { a } = pair();
  a.command(1, { op: 'goodbye' });
  a.outbox.splice(0);
  a.feed({ kind: 'frame', now: 2, frame: Uint8Array.of(0xff) });
  const page: Message = { type: 'list-page', id: 9, entries: [], total: 0 };
  a.feed({ kind: 'frame', now: 2, frame: encodeMessage(1, page, DEFAULT_LIMITS) });
  const refusal: Message = {
    type: 'error',
    code: 'not-found',
    message: 'x',
    inReplyTo: 9,
    fatal: false,
  };
  a.feed({ kind: 'frame', now: 2, frame: encodeMessage(1, refusal, DEFAULT_LIMITS) });
  assert.equal(a.state.phase, 'closing');
  assert.equal(a.outbox.length, 0);
  a.feed({ kind: 'frame', now: 3, frame: encodeMessage(1, { type: 'goodbye' }, DEFAULT_LIMITS) });
  closedWith(a, null);
  assert.equal(a.outbox.length, 0);
});

test('the goodbye wait ends in a clean close', () => {
  const { a } = pair();
  a.command(1, { op: 'goodbye' });
  a.feed({ kind: 'tick', now: 1 + 5_000 });
  closedWith(a, null);
});

/** Feeds messages from the peer, as frames of version 1. */
function feedAll(side: Side, messages: readonly Message[], now = 1) {
  for (const m of messages) {
    side.feed({ kind: 'frame', now, frame: encodeMessage(1, m, DEFAULT_LIMITS) });
  }
}

test('each transfer violation of spec 8.5 ends the session with its code', () => {
  const begin: Message = { type: 'transfer-begin', id: 2, mode: 'add', items: 1 };
  const batch = (seq: number): Message => ({
    type: 'items',
    id: 2,
    seq,
    items: [item(100 + seq)],
    tombstones: [],
  });
  const cases: [string, Message[], ErrorCode][] = [
    ['a second transfer-begin while one runs', [begin, begin], 'unexpected-message'],
    [
      'transfer-end with the wrong batch count',
      [begin, batch(0), { type: 'transfer-end', id: 2, batches: 3 }],
      'malformed-message',
    ],
    [
      'an overflow alert for a transfer this side is not sending',
      [{ type: 'overflow-alert', id: 2, incoming: new Uint8Array(32), candidates: [] }],
      'unexpected-message',
    ],
  ];
  for (const [why, messages, code] of cases) {
    const { a } = pair();
    feedAll(a, messages);
    assert.equal(a.state.phase, 'closed', why);
    sentFatal(a, code);
  }
});

test('frames past the window while an overflow answer is awaited are limit-exceeded', () => {
  const aStore = new MemoryStore(1, 'alert');
  aStore.put(item(1));
  const { a } = pair(aStore);
  const batches: Message[] = Array.from({ length: 7 }, (_, seq) => ({
    type: 'items',
    id: 2,
    seq,
    items: [item(50 + seq)],
    tombstones: [],
  }));
  feedAll(a, [{ type: 'transfer-begin', id: 2, mode: 'add', items: 7 }, ...batches.slice(0, 6)]);
  assert.equal(a.state.phase, 'ready');
  assert.ok(a.state.inbound?.waiting);
  feedAll(a, batches.slice(6));
  sentFatal(a, 'limit-exceeded');
});

test('a hello whose version range is empty is malformed-message', () => {
  const a = new Side('a', testConfig(), { store: new MemoryStore() });
  a.feed({ kind: 'start', now: 0 });
  a.outbox.splice(0);
  const hello: Message = {
    type: 'hello',
    versions: [3, 1],
    capabilities: [],
    summary: { certificates: 0, crls: 0, digest: new Uint8Array(0) },
    maxFrame: 4096,
    sync: 'auto',
  };
  feedAll(a, [hello]);
  sentFatal(a, 'malformed-message');
});

test('lru: a victim that may be a last copy is offered to the peer before it is evicted', () => {
  const aStore = new MemoryStore();
  const incoming = aStore.put(item(1));
  const bStore = new MemoryStore(1, 'lru');
  const victim = bStore.put(item(2));
  const { a, b } = pair(aStore, bStore);
  a.command(1, { op: 'push', mode: 'add', ids: [incoming] });
  exchange(a, b, 1);
  assert.deepEqual([...bStore.live.keys()], [incoming]);
  assert.ok(aStore.live.has(victim), 'the victim now lives on the sender');
  const result = a.seen('items-acked').flatMap((e) => e.results)[0];
  assert.equal(result?.outcome, 'updated');
  assert.equal(bytesOf(victim).join(), result?.replaced?.join());
  assert.equal(b.state.inbound, null);
  assert.equal(b.state.outbound, null);
});

test('lru: when the peer cannot take the victim, the incoming item is refused instead', () => {
  const aStore = new MemoryStore(1, 'refuse');
  const incoming = aStore.put(item(1));
  const bStore = new MemoryStore(1, 'lru');
  const victim = bStore.put(item(2));
  const { a, b } = pair(aStore, bStore);
  a.command(1, { op: 'push', mode: 'add', ids: [incoming] });
  exchange(a, b, 1);
  assert.deepEqual([...bStore.live.keys()], [victim]);
  const result = a.seen('items-acked').flatMap((e) => e.results)[0];
  assert.equal(result?.code, 'store-full');
  assert.equal(b.state.inbound, null);
});

test('lru: two full stores pushing to each other at once finish without a deadlock or a loss', () => {
  const aStore = new MemoryStore(2, 'lru');
  const aIds = [aStore.put(item(1)), aStore.put(item(2))];
  const bStore = new MemoryStore(2, 'lru');
  const bIds = [bStore.put(item(3)), bStore.put(item(4))];
  const { a, b } = pair(aStore, bStore);
  a.command(1, { op: 'push', mode: 'add', ids: aIds });
  b.command(1, { op: 'push', mode: 'add', ids: bIds });
  exchange(a, b, 1);
  for (const s of [a, b]) {
    assert.equal(s.state.phase, 'ready');
    assert.equal(s.state.inbound, null);
    assert.equal(s.state.outbound, null);
  }
  const everywhere = new Set([...aStore.live.keys(), ...bStore.live.keys()]);
  for (const id of [...aIds, ...bIds]) assert.ok(everywhere.has(id), `${id} survived`);
});
