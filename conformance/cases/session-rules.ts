/**
 * Cases for spec/protocol.md 5 and 7 to 9 beyond messages.ts and transfers.ts: hello's
 * fields, shared records, listings, several requests at once, phases, reconciliation
 * start, timeouts, transfer violations, overflow limits, goodbye and error codes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import type { Message } from '../../protocol/messages/catalog.ts';
import { encodeCbor, type CborKey, type CborValue } from '../../protocol/wire/cbor.ts';
import { bytesOf, hexOf } from '../../protocol/wire/hex.ts';
import type { Case, Context } from '../harness/context.ts';
import {
  certItem,
  push,
  receiveTransfer,
  RUNNER_ORIGIN,
  tombstoneOf,
} from '../harness/transfer-peer.ts';
import { decoded, frameOf, runnerHello, type WirePeer } from '../harness/wire-peer.ts';
import { digestOf } from '../harness/reconcile-model.ts';
import { expectType } from './messages.ts';
import { implEndedWith } from './secure.ts';
import { expectListPage } from './wire.ts';

const LIST = { type: 'list-request', id: 7, order: 'store', filter: 'all', limit: 10 } as const;

/** The error codes of spec/protocol.md 9, read from its table. */
export function specErrorCodes(root = process.cwd()): Set<string> {
  const text = readFileSync(join(root, 'spec/protocol.md'), 'utf8');
  const table = text.slice(text.indexOf('<!-- generated:error-codes -->'));
  return new Set([...table.matchAll(/^\| `([a-z-]+)` +\|/gm)].map((m) => m[1] as string));
}

/** Reads until a fatal error arrives (skipping what comes before it) and checks its code. */
export async function expectFatalAfter(ctx: Context, peer: WirePeer, code: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const m = await peer.message();
    if (m.kind === 'message' && m.message.type === 'error') {
      assert.equal(m.message.code, code, `expected error ${code}`);
      assert.equal(m.message.fatal, true, 'expected the error to be fatal');
      assert.equal(await peer.next(), 'closed', 'the link closes after a fatal error');
      return;
    }
  }
  assert.fail(`no error ${code} came`);
}

/** A case with a store of `certs` and an open session. */
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

/** The implementation's hello, decoded. */
function helloOf(peer: WirePeer) {
  const h = decoded(peer.theirHello);
  assert.ok(h.kind === 'message' && h.message.type === 'hello', 'the first frame is a hello');
  return { version: h.version, hello: h.message };
}

/** A payload map as is, for frames the catalog encoder would not write. */
function raw(type: number, entries: [CborKey, CborValue][]): Uint8Array {
  return encodeCbor([1, type, new Map(entries)]);
}

const ids = (ctx: Context, ns: number[]): string[] => ns.map((n) => ctx.certs.id(n));

export const SESSION_RULE_CASES: readonly Case[] = [
  {
    name: 'hello/fields-and-summary',
    covers: ['R-VER-5', 'R-HELLO-1', 'R-SUM-1'],
    async run(ctx) {
      await ctx.fresh({ certs: [0, 1, 2], capacity: 5, policy: 'lru' });
      const { version, hello } = helloOf(await ctx.open());
      const [min, max] = hello.versions;
      assert.ok(min >= 1 && min <= 1 && max >= 1, 'the range holds version 1');
      assert.equal(version, max, "the hello's envelope carries the sender's max");
      assert.equal(hello.summary.certificates, 3, 'live certificates');
      assert.equal(hello.summary.crls, 0);
      assert.equal(hello.summary.capacity, 5);
      assert.equal(hello.summary.free, 2, 'room left');
      assert.ok(hello.maxFrame >= 4_096 && hello.maxFrame <= 65_518, 'maxFrame 4,096..65,518');
      assert.equal(hello.sync, 'on-request', 'without auto sync, sync is on-request');
      await ctx.fresh({ certs: [0] });
      const unlimited = helloOf(await ctx.open({}, { autoSync: true })).hello;
      assert.equal(unlimited.summary.capacity, undefined, 'unlimited: no capacity');
      assert.equal(unlimited.summary.free, undefined, 'unlimited: no free');
      assert.equal(unlimited.sync, 'auto', 'the auto setting says auto');
    },
  },
  {
    name: 'errors/unknown-code-reads-as-internal',
    covers: ['R-ERR-1'],
    async run(ctx) {
      await ctx.fresh();
      const peer = await ctx.open();
      await peer.send(
        raw(3, [
          [0, 'code-of-a-later-version'],
          [1, 'bye'],
          [3, true],
        ]),
      );
      assert.equal(await peer.next(), 'closed', 'a fatal error is not answered');
      assert.equal(await implEndedWith(ctx), 'internal');
    },
  },
  {
    name: 'errors/codes-from-the-closed-set',
    covers: ['R-ERR-2'],
    async run(ctx) {
      const known = specErrorCodes();
      const bad: [string, Uint8Array][] = [
        ['a tag', bytesOf('830120c0a0')],
        ['type 99', bytesOf('83011863a0')],
        ['a second hello', frameOf(runnerHello())],
      ];
      for (const [why, frame] of bad) {
        await ctx.fresh();
        const peer = await ctx.open();
        await peer.send(frame);
        const m = await peer.message();
        assert.ok(m.kind === 'message' && m.message.type === 'error', `an error for ${why}`);
        assert.ok(known.has(m.message.code), `${m.message.code} is in spec/protocol.md 9`);
      }
    },
  },
  withSession(
    'errors/non-fatal-error-answering-nothing',
    ['R-SES-2', 'R-MSG-6'],
    [0],
    async (peer, ctx) => {
      await peer.say({
        type: 'error',
        code: 'not-found',
        message: 'no',
        inReplyTo: 999,
        fatal: false,
      });
      await ctx.expectFatal(peer, 'unexpected-message');
    },
  ),
  withSession('items/metadata-only-update', ['R-ITEM-1'], [0, 1], async (peer, ctx) => {
    const id = bytesOf(ctx.certs.id(0));
    const r = await push(peer, {
      id: 1,
      mode: 'add',
      batches: [
        [
          {
            kind: 'cert',
            id,
            label: 'Work',
            pinned: true,
            clock: 1_000_000,
            origin: RUNNER_ORIGIN,
          },
        ],
      ],
    });
    assert.deepEqual(
      r.results.map((x) => [hexOf(x.id), x.outcome]),
      [[ctx.certs.id(0), 'updated']],
    );
    const held = (await ctx.store()).certificates.find((c) => c.id === ctx.certs.id(0));
    assert.deepEqual([held?.label, held?.pinned], ['Work', true], 'the metadata was taken');
  }),
  withSession('items/der-and-id-both-present', ['R-ITEM-2'], [0], async (peer, ctx) => {
    const der = ctx.certs.der(1);
    const item = new Map<CborKey, CborValue>([
      [0, 1],
      [1, der],
      [3, false],
      [4, 5],
      [5, RUNNER_ORIGIN],
      [9, sha256(der)],
    ]);
    await peer.say({ type: 'transfer-begin', id: 2, mode: 'add', items: 1 });
    await peer.send(
      raw(41, [
        [0, 2],
        [1, 0],
        [2, [item]],
        [3, []],
      ]),
    );
    await ctx.expectFatal(peer, 'malformed-message');
  }),
  withSession('list/entry-fields', ['R-ENTRY-1'], [3], async (peer, ctx) => {
    await peer.say(LIST);
    const page = await expectType(peer, 'list-page');
    const e = page.entries[0];
    assert.ok(e, 'one entry');
    assert.equal(hexOf(e.id), ctx.certs.id(3), 'the id is SHA-256 of the DER');
    assert.equal(e.kind, 'cert');
    assert.match(e.subject, /User 0000000003/, 'the subject as an RFC 4514 string');
    assert.match(e.issuer, /Factory Root/);
    assert.ok(e.emails.includes('user0000000003@example.org'), 'its e-mail address');
    assert.equal(e.size, ctx.certs.der(3).length, 'size is the DER length');
    assert.ok(e.notBefore < e.notAfter && e.notAfter > Date.now(), 'the validity period');
    assert.equal(e.pinned, false);
  }),
  {
    name: 'list/orders',
    covers: ['R-LIST-1', 'R-MSG-7'],
    async run(ctx) {
      await ctx.fresh();
      const order = [7, 3, 9, 1];
      const uses: Record<number, number> = { 7: 0, 3: 5, 9: 2, 1: 1 };
      await ctx.impl.request('load', {
        certificates: order.map((n) => ({ der: ctx.certs.derHex(n), uses: uses[n] as number })),
      });
      const peer = await ctx.open();
      const listed = async (o: 'store' | 'use' | 'subject', id: number): Promise<string[]> => {
        await peer.say({ ...LIST, id, order: o });
        const page = await expectType(peer, 'list-page');
        return page.entries.map((e) => hexOf(e.id));
      };
      assert.deepEqual(await listed('store', 1), ids(ctx, order), 'store order');
      assert.deepEqual(await listed('use', 2), ids(ctx, [3, 9, 1, 7]), 'most used first');
      assert.deepEqual(await listed('subject', 3), ids(ctx, [1, 3, 7, 9]), 'by subject');
    },
  },
  {
    name: 'limits/schema-bounds-of-requests',
    covers: ['R-LIM-3'],
    async run(ctx) {
      const frames: [string, Uint8Array][] = [
        [
          'list limit 0',
          raw(32, [
            [0, 7],
            [1, 0],
            [2, 0],
            [4, 0],
          ]),
        ],
        [
          'delete of 513 ids',
          raw(48, [
            [0, 8],
            [1, Array.from({ length: 513 }, () => new Uint8Array(32))],
          ]),
        ],
        [
          'a 31-byte item id',
          raw(48, [
            [0, 8],
            [1, [new Uint8Array(31)]],
          ]),
        ],
      ];
      for (const [why, frame] of frames) {
        await ctx.fresh();
        const peer = await ctx.open();
        await peer.send(frame);
        await ctx.expectFatal(peer, 'malformed-message').catch((e: Error) => {
          throw new Error(`${why}: ${e.message}`);
        });
      }
    },
  },
  withSession('requests/several-at-once-each-answered-once', ['R-SES-5'], [0, 1], async (peer) => {
    await peer.say(
      { ...LIST, id: 31 },
      { ...LIST, id: 32, limit: 1 },
      { ...LIST, id: 33, order: 'subject' },
      { type: 'delete-request', id: 34, ids: [new Uint8Array(32).fill(9)] },
    );
    const got: string[] = [];
    for (let i = 0; i < 4; i++) {
      const m = await peer.message();
      assert.ok(m.kind === 'message');
      if (m.message.type === 'list-page' || m.message.type === 'delete-result') {
        got.push(`${m.message.type} ${m.message.id}`);
      } else assert.fail(`unexpected ${m.message.type}`);
    }
    assert.deepEqual(got.sort(), [
      'delete-result 34',
      'list-page 31',
      'list-page 32',
      'list-page 33',
    ]);
    assert.equal(await peer.next(400), 'timeout', 'exactly one answer each');
  }),
  {
    name: 'pull/second-pull-while-sending-refused',
    covers: ['R-MSG-9', 'R-SES-6'],
    async run(ctx) {
      await ctx.fresh({ certs: Array.from({ length: 16 }, (_, i) => 40 + i) });
      const peer = await ctx.open({ hello: frameOf(runnerHello({ maxFrame: 4_096 })) });
      await peer.say(
        { type: 'pull-request', id: 1, mode: 'add', filter: 'all' },
        { type: 'pull-request', id: 2, mode: 'add', filter: 'all' },
      );
      let refused = false;
      let items = 0;
      for (;;) {
        const m = await peer.message();
        assert.ok(m.kind === 'message');
        const x = m.message;
        if (x.type === 'error') {
          assert.equal(x.fatal, false, 'the second pull is refused, not the session');
          assert.equal(x.inReplyTo, 2);
          refused = true;
        } else if (x.type === 'items') {
          assert.equal(x.id, 1, 'the transfer answers the first pull');
          items += x.items.length;
          await peer.say({
            type: 'items-ack',
            id: 1,
            seq: x.seq,
            results: x.items.map((i) => ({
              id: sha256(i.der ?? new Uint8Array(0)),
              outcome: 'stored' as const,
            })),
          });
        } else if (x.type === 'transfer-end') break;
        else assert.equal(x.type, 'transfer-begin');
      }
      assert.ok(refused, 'the second pull drew a non-fatal error');
      assert.equal(items, 16, 'the first pull was answered whole');
    },
  },
  {
    name: 'phases/only-hello-or-error-before-hello',
    covers: ['R-PH-1'],
    async run(ctx) {
      await ctx.fresh({ certs: [0] });
      const peer = await ctx.open({ hello: frameOf(LIST) });
      await ctx.expectFatal(peer, 'unexpected-message');
    },
  },
  {
    name: 'phases/closing-discards-all-but-goodbye',
    covers: ['R-PH-2', 'R-BYE-1'],
    async run(ctx) {
      await ctx.fresh({ certs: [0] });
      const peer = await ctx.open();
      const bye = ctx.act('goodbye');
      await expectType(peer, 'goodbye');
      await peer.say(LIST);
      assert.equal(await peer.next(400), 'timeout', 'a request in closing is not answered');
      await peer.say({ type: 'goodbye' });
      await bye;
      assert.equal(await implEndedWith(ctx), null, 'a clean end');
    },
  },
  {
    name: 'timeouts/goodbye-not-answered',
    covers: ['R-SES-7'],
    async run(ctx) {
      await ctx.fresh();
      const peer = await ctx.open({}, { timeouts: { goodbye: 300 } });
      const bye = ctx.act('goodbye');
      await expectType(peer, 'goodbye');
      await bye;
      assert.equal(await implEndedWith(ctx), null, 'closed without an error');
      assert.equal(await peer.next(), 'closed');
    },
  },
  {
    name: 'timeouts/overflow-answer-not-given',
    covers: ['R-SES-8'],
    async run(ctx) {
      await ctx.fresh({ certs: [0, 1], capacity: 2, policy: 'alert' });
      const peer = await ctx.open({}, { timeouts: { overflowAnswer: 400 } });
      await peer.say(
        { type: 'transfer-begin', id: 3, mode: 'add', items: 1 },
        { type: 'items', id: 3, seq: 0, items: [certItem(ctx.certs.der(2), 1)], tombstones: [] },
      );
      await expectType(peer, 'overflow-alert');
      await ctx.expectFatal(peer, 'timeout');
      assert.deepEqual(await ctx.liveIds(), ids(ctx, [0, 1]).sort(), 'nothing was applied');
    },
  },
  withSession('transfer/begin-count-is-a-progress-figure', ['R-XFER-12'], [], async (peer, ctx) => {
    await peer.say(
      { type: 'transfer-begin', id: 4, mode: 'add', items: 50 },
      { type: 'items', id: 4, seq: 0, items: [certItem(ctx.certs.der(5), 1)], tombstones: [] },
      { type: 'transfer-end', id: 4, batches: 1 },
    );
    await expectType(peer, 'items-ack');
    const done = await expectType(peer, 'transfer-done');
    assert.equal(done.aborted, false);
  }),
  withSession(
    'transfer/ack-results-items-then-tombstones',
    ['R-XFER-13'],
    [0, 1],
    async (peer, ctx) => {
      const r = await push(peer, {
        id: 5,
        mode: 'add',
        batches: [
          [
            tombstoneOf(bytesOf(ctx.certs.id(0)), 1_000_000),
            certItem(ctx.certs.der(2), 9),
            certItem(ctx.certs.der(3), 9),
          ],
        ],
      });
      assert.deepEqual(
        r.results.map((x) => [hexOf(x.id), x.outcome]),
        [
          [ctx.certs.id(2), 'stored'],
          [ctx.certs.id(3), 'stored'],
          [ctx.certs.id(0), 'deleted'],
        ],
      );
    },
  ),
  {
    name: 'transfer/done-before-end-is-a-violation',
    covers: ['R-XFER-14'],
    async run(ctx) {
      const ns = [0, 1, 2, 3, 4, 5, 6, 7];
      await ctx.fresh({ certs: ns });
      const peer = await ctx.open({ hello: frameOf(runnerHello({ maxFrame: 4_096 })) });
      const acted = ctx.act('push', { ids: ids(ctx, ns), mode: 'add' });
      acted.catch(() => undefined);
      const begin = await expectType(peer, 'transfer-begin');
      await peer.say({ type: 'transfer-done', id: begin.id, aborted: false, removed: 0 });
      await expectFatalAfter(ctx, peer, 'unexpected-message');
    },
  },
  {
    name: 'transfer/ack-for-a-later-batch-is-a-violation',
    covers: ['R-XFER-15'],
    async run(ctx) {
      const ns = [0, 1, 2, 3, 4, 5, 6, 7, 8];
      await ctx.fresh({ certs: ns });
      const peer = await ctx.open({ hello: frameOf(runnerHello({ maxFrame: 4_096 })) });
      const acted = ctx.act('push', { ids: ids(ctx, ns), mode: 'add' });
      acted.catch(() => undefined);
      await expectType(peer, 'transfer-begin');
      const first = await expectType(peer, 'items');
      await expectType(peer, 'items');
      await peer.say({ type: 'items-ack', id: first.id, seq: 1, results: [] });
      await expectFatalAfter(ctx, peer, 'unexpected-message');
    },
  },
  withSession(
    'transfer/alert-for-no-transfer-is-a-violation',
    ['R-XFER-16'],
    [0],
    async (peer, ctx) => {
      await peer.say(LIST);
      const page = await expectType(peer, 'list-page');
      await peer.say({
        type: 'overflow-alert',
        id: 99,
        incoming: new Uint8Array(32).fill(3),
        candidates: page.entries.slice(0, 1),
      });
      await ctx.expectFatal(peer, 'unexpected-message');
    },
  ),
  {
    name: 'overflow/frames-held-past-an-alert-are-bounded',
    covers: ['R-OVF-6'],
    async run(ctx) {
      await ctx.fresh({ certs: [0, 1], capacity: 2, policy: 'alert' });
      const peer = await ctx.open();
      const batches: Message[] = Array.from({ length: 8 }, (_, seq) => ({
        type: 'items',
        id: 6,
        seq,
        items: [certItem(ctx.certs.der(10 + seq), 1)],
        tombstones: [],
      }));
      await peer.say({ type: 'transfer-begin', id: 6, mode: 'add', items: 8 }, ...batches);
      await expectType(peer, 'overflow-alert');
      await ctx.expectFatal(peer, 'limit-exceeded');
      assert.deepEqual(await ctx.liveIds(), ids(ctx, [0, 1]).sort(), 'capacity held');
    },
  },
  {
    name: 'transfer/item-too-large-for-any-frame-not-sent',
    covers: ['R-XFER-17', 'R-LIM-4'],
    async run(ctx) {
      await ctx.fresh({ certs: [0] });
      const large = ctx.certs.special.large;
      assert.ok(large.length > 4_096, 'the large certificate is over 4,096 bytes');
      await ctx.impl.request('load', { certificates: [{ der: hexOf(large) }] });
      const peer = await ctx.open({ hello: frameOf(runnerHello({ maxFrame: 4_096 })) });
      const largeId = hexOf(sha256(large));
      const acted = ctx.act('push', { ids: [largeId, ctx.certs.id(0)], mode: 'add' });
      const t = await receiveTransfer(peer);
      assert.deepEqual(
        t.items.map((i) => hexOf(sha256(i.der ?? new Uint8Array(0)))),
        [ctx.certs.id(0)],
        'only what fits a frame is sent',
      );
      const r = (await acted) as { results: { id: string; outcome: string; code?: string }[] };
      const mine = r.results.find((x) => x.id === largeId);
      assert.deepEqual([mine?.outcome, mine?.code], ['refused', 'frame-too-large']);
    },
  },
  {
    name: 'goodbye/abandons-a-running-transfer',
    covers: ['R-BYE-2'],
    async run(ctx) {
      await ctx.fresh();
      const peer = await ctx.open();
      await peer.say(
        { type: 'transfer-begin', id: 7, mode: 'add', items: 3 },
        { type: 'items', id: 7, seq: 0, items: [certItem(ctx.certs.der(20), 1)], tombstones: [] },
      );
      await expectType(peer, 'items-ack');
      await peer.say({ type: 'goodbye' });
      await expectType(peer, 'goodbye');
      assert.equal(await implEndedWith(ctx), null, 'a clean end');
      assert.deepEqual(await ctx.liveIds(), ids(ctx, [20]), 'the applied batch stays');
    },
  },
  {
    name: 'sync/auto-in-either-hello-starts-it',
    covers: ['R-SYNC-1'],
    async run(ctx) {
      await ctx.fresh({ certs: [0, 1] });
      const summary = { certificates: 0, crls: 0, digest: digestOf([]).bytes };
      const hello = frameOf(runnerHello({ capabilities: [1], sync: 'auto', summary }));
      const a = await ctx.open({ hello });
      const first = await a.message();
      assert.equal(first.kind, 'reconcile', "the runner's auto starts the reconcile");
      await ctx.fresh({ certs: [0, 1] });
      const quiet = frameOf(runnerHello({ capabilities: [1], summary }));
      const b = await ctx.open({ hello: quiet }, { autoSync: true });
      assert.equal((await b.message()).kind, 'reconcile', "the implementation's auto starts it");
    },
  },
  {
    name: 'sync/on-request-waits-for-the-user',
    covers: ['R-SYNC-1'],
    async run(ctx) {
      await ctx.fresh({ certs: [0, 1] });
      const summary = { certificates: 0, crls: 0, digest: digestOf([]).bytes };
      const peer = await ctx.open({ hello: frameOf(runnerHello({ capabilities: [1], summary })) });
      assert.equal(await peer.next(400), 'timeout', 'no reconcile while both are on-request');
      const syncing = ctx.act('sync');
      syncing.catch(() => undefined);
      assert.equal((await peer.message()).kind, 'reconcile', 'the user asks: it begins');
    },
  },
  {
    name: 'sync/no-reconcile-without-both-capabilities',
    covers: ['R-SYNC-3'],
    async run(ctx) {
      await ctx.fresh({ certs: [0, 1] });
      const summary = { certificates: 0, crls: 0, digest: digestOf([]).bytes };
      const peer = await ctx.open({ hello: frameOf(runnerHello({ sync: 'auto', summary })) });
      assert.equal(await peer.next(400), 'timeout', 'no reconcile frame to a peer without it');
      await peer.say(LIST);
      await expectListPage(peer);
    },
  },
];
