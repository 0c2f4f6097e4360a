/**
 * Cases for spec/protocol.md sections 7 and 8.1–8.9 outside transfers: each request type
 * valid and invalid, answers, phases, goodbye and violations.
 */
import assert from 'node:assert/strict';
import type { Message } from '../../protocol/messages/catalog.ts';
import { encodeCbor, type CborKey, type CborValue } from '../../protocol/wire/cbor.ts';
import { bytesOf, hexOf } from '../../protocol/wire/hex.ts';
import type { Case, Context } from '../harness/context.ts';
import { runnerHello, type WirePeer } from '../harness/wire-peer.ts';
import { expectListPage } from './wire.ts';

const LIST = { type: 'list-request', id: 7, order: 'store', filter: 'all', limit: 10 } as const;

/** The next message, asserted to be of `type`. */
export async function expectType<T extends Message['type']>(
  peer: WirePeer,
  type: T,
  ms = 5_000,
): Promise<Extract<Message, { type: T }>> {
  const m = await peer.message(ms);
  assert.ok(m.kind === 'message', `expected ${type}, got a ${m.kind} frame`);
  const detail = m.message.type === 'error' ? ` (${m.message.code}: ${m.message.message})` : '';
  assert.equal(m.message.type, type, `expected ${type}, got ${m.message.type}${detail}`);
  return m.message as Extract<Message, { type: T }>;
}

/** A case: a store of `certs`, a session, then `body`. */
function withSession(
  name: string,
  covers: string[],
  certs: number[],
  body: (peer: WirePeer, ctx: Context) => Promise<void>,
): Case {
  return {
    name,
    covers,
    async run(ctx) {
      await ctx.fresh({ certs });
      await body(await ctx.open(), ctx);
    },
  };
}

/** A case that sends `message` once ready and expects a fatal error `code`. */
function violation(name: string, covers: string[], code: string, ...messages: Message[]): Case {
  return withSession(name, covers, [0], async (peer, ctx) => {
    await peer.say(...messages);
    await ctx.expectFatal(peer, code);
  });
}

export const MESSAGE_CASES: readonly Case[] = [
  withSession('messages/list-page', ['R-MSG-2', 'R-MSG-7'], [0, 1, 2, 3, 4], async (peer, ctx) => {
    await peer.say(LIST);
    const page = await expectType(peer, 'list-page');
    assert.equal(page.id, 7);
    assert.equal(page.total, 5);
    assert.equal(page.next, undefined, 'one page holds all five: no next cursor');
    const ids = page.entries.map((e) => hexOf(e.id)).sort();
    assert.deepEqual(ids, await ctx.liveIds());
    for (const e of page.entries) assert.equal(e.kind, 'cert');
  }),
  withSession(
    'messages/list-pages-follow-cursor',
    ['R-MSG-7'],
    [0, 1, 2, 3, 4],
    async (peer, ctx) => {
      const seen: string[] = [];
      let cursor: Uint8Array | undefined;
      for (let n = 0; n < 5; n++) {
        await peer.say({ ...LIST, id: 20 + n, limit: 2, ...(cursor ? { cursor } : {}) });
        const page = await expectType(peer, 'list-page');
        assert.equal(page.id, 20 + n);
        assert.ok(page.entries.length <= 2, 'a page holds at most the limit');
        assert.equal(page.total, 5);
        seen.push(...page.entries.map((e) => hexOf(e.id)));
        cursor = page.next;
        if (!cursor) break;
      }
      assert.equal(cursor, undefined, 'the last page has no next cursor');
      assert.deepEqual(seen.sort(), await ctx.liveIds(), 'the pages together list each item once');
    },
  ),
  withSession(
    'messages/list-lacking-refused-without-reconcile',
    ['R-MSG-3', 'R-MSG-6'],
    [0],
    async (peer) => {
      await peer.say({ ...LIST, filter: 'lacking' });
      const e = await expectType(peer, 'error');
      assert.equal(e.code, 'unexpected-message');
      assert.equal(e.fatal, false, 'the refusal is not fatal');
      assert.equal(e.inReplyTo, 7, 'a non-fatal error names the request it refuses');
      await peer.say(LIST);
      await expectListPage(peer);
    },
  ),
  withSession('messages/missing-required-field', ['R-MSG-1'], [0], async (peer, ctx) => {
    const payload = new Map<CborKey, CborValue>([
      [0, 7],
      [1, 0],
      [2, 0],
    ]);
    await peer.send(encodeCbor([1, 32, payload]));
    await ctx.expectFatal(peer, 'malformed-message');
  }),
  withSession('messages/field-of-wrong-shape', ['R-MSG-1'], [0], async (peer, ctx) => {
    const payload = new Map<CborKey, CborValue>([
      [0, 7],
      [1, 'store'],
      [2, 0],
      [4, 10],
    ]);
    await peer.send(encodeCbor([1, 32, payload]));
    await ctx.expectFatal(peer, 'malformed-message');
  }),
  withSession('messages/delete-request', ['R-MSG-4', 'R-DEL-1'], [0, 1, 2], async (peer, ctx) => {
    const gone = ctx.certs.id(1);
    const unknown = 'ab'.repeat(32);
    await peer.say({ type: 'delete-request', id: 9, ids: [bytesOf(gone), bytesOf(unknown)] });
    const r = await expectType(peer, 'delete-result');
    assert.equal(r.id, 9);
    assert.deepEqual(
      r.results.map((x) => [hexOf(x.id), x.outcome]),
      [
        [gone, 'deleted'],
        [unknown, 'not-found'],
      ],
    );
    const store = await ctx.store();
    assert.ok(!store.certificates.some((c) => c.id === gone), 'the item is gone');
    assert.ok(store.tombstones.includes(gone), 'deleting wrote a tombstone');
  }),
  withSession('messages/validity-report-asks-nothing', ['R-MSG-5'], [0], async (peer, ctx) => {
    await peer.say({
      type: 'validity-report',
      checkedAt: 1_764_800_000_000,
      results: [{ id: bytesOf(ctx.certs.id(0)), status: 'expired' }],
    });
    await peer.say(LIST);
    await expectListPage(peer);
  }),
  violation('session/hello-in-ready', ['R-SES-1', 'R-VIO-1'], 'unexpected-message', runnerHello()),
  violation('session/answer-to-no-request', ['R-SES-2'], 'unexpected-message', {
    type: 'list-page',
    id: 99,
    entries: [],
    total: 0,
  }),
  violation('session/delete-result-to-no-request', ['R-SES-2'], 'unexpected-message', {
    type: 'delete-result',
    id: 98,
    results: [],
  }),
  violation('transfer/items-without-begin', ['R-XFER-11'], 'unexpected-message', {
    type: 'items',
    id: 5,
    seq: 0,
    items: [],
    tombstones: [],
  }),
  violation('transfer/end-without-begin', ['R-XFER-11'], 'unexpected-message', {
    type: 'transfer-end',
    id: 5,
    batches: 0,
  }),
  violation(
    'transfer/second-begin-same-direction',
    ['R-XFER-11'],
    'unexpected-message',
    { type: 'transfer-begin', id: 1, mode: 'add', items: 1 },
    { type: 'transfer-begin', id: 2, mode: 'add', items: 1 },
  ),
  withSession('session/goodbye-answered', ['R-BYE-1'], [0], async (peer) => {
    await peer.say({ type: 'goodbye', reason: 'done' });
    await expectType(peer, 'goodbye');
    assert.equal(await peer.next(), 'closed', 'the side that answered goodbye closes');
  }),
  withSession('session/fatal-error-not-answered', ['R-VIO-2'], [0], async (peer) => {
    await peer.say({ type: 'error', code: 'internal', message: 'runner gives up', fatal: true });
    const f = await peer.next();
    assert.equal(f, 'closed', 'nothing answers a fatal error; the link closes');
  }),
  withSession('misbehaving/garbage-frame', ['R-VIO-1', 'R-CBOR-1'], [0], async (peer, ctx) => {
    const junk = Uint8Array.from({ length: 40 }, () => ctx.rng.int(256));
    junk[0] = 0xff; // a break code as the initial byte: never a valid item
    await peer.send(junk);
    await ctx.expectFatal(peer, 'malformed-message');
  }),
];
