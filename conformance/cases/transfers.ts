/**
 * Cases for spec/protocol.md 8.5–8.7 and reconcile.md 10–11: every transfer mode both ways,
 * the window, sequence rules, tombstones, and overflow under each policy. Outcomes are read
 * from the wire (items-ack, transfer-done) and from the store the adapter reports.
 */
import assert from 'node:assert/strict';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesOf, hexOf } from '../../protocol/wire/hex.ts';
import type { Case, Context } from '../harness/context.ts';
import {
  certItem,
  push,
  receiveTransfer,
  tombstoneOf,
  RUNNER_ORIGIN,
} from '../harness/transfer-peer.ts';
import { frameOf, runnerHello } from '../harness/wire-peer.ts';
import { expectType } from './messages.ts';

/** Numbers `from..from+n-1`. */
const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);

/** Runner items for certificates `ns`, at a clock newer than anything the store made. */
function items(ctx: Context, ns: number[], clock = 1_000_000) {
  return ns.map((n) => certItem(ctx.certs.der(n), clock));
}

/** Splits into batches of `size`. */
function chunks<T>(xs: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/** The id, hex, of an item the implementation sent. */
const idOf = (i: { der?: Uint8Array }): string => hexOf(sha256(i.der ?? new Uint8Array(0)));

function outcomesById(results: readonly { id: Uint8Array; outcome: string }[]) {
  return new Map(results.map((r) => [hexOf(r.id), r.outcome]));
}

export const TRANSFER_CASES: readonly Case[] = [
  {
    name: 'transfer/push-add',
    covers: ['R-XFER-1', 'R-XFER-10', 'R-MSG-8'],
    async run(ctx) {
      await ctx.fresh({ certs: [0, 1] });
      const peer = await ctx.open();
      const r = await push(peer, { id: 1, mode: 'add', batches: [items(ctx, [1, 2, 3], 0)] });
      assert.equal(r.done.aborted, false);
      assert.equal(r.done.removed, 0);
      const got = outcomesById(r.results);
      assert.equal(r.results.length, 3, 'one result per item');
      assert.equal(got.get(ctx.certs.id(1)), 'unchanged', 'an item held in a newer version');
      assert.equal(got.get(ctx.certs.id(2)), 'stored');
      assert.equal(got.get(ctx.certs.id(3)), 'stored');
      assert.deepEqual(await ctx.liveIds(), [0, 1, 2, 3].map((n) => ctx.certs.id(n)).sort());
    },
  },
  {
    name: 'transfer/push-window-of-four',
    covers: ['R-XFER-1', 'R-XFER-5'],
    async run(ctx) {
      await ctx.fresh();
      const peer = await ctx.open();
      const ns = range(10, 12);
      const r = await push(peer, { id: 2, mode: 'add', batches: chunks(items(ctx, ns), 2) });
      assert.equal(r.acks.length, 6, 'one items-ack per batch');
      assert.deepEqual(
        r.acks.map((a) => a.seq),
        [0, 1, 2, 3, 4, 5],
      );
      assert.deepEqual(await ctx.liveIds(), ns.map((n) => ctx.certs.id(n)).sort());
    },
  },
  {
    name: 'transfer/end-counts-wrong',
    covers: ['R-XFER-2'],
    async run(ctx) {
      await ctx.fresh();
      const peer = await ctx.open();
      await peer.say(
        { type: 'transfer-begin', id: 3, mode: 'add', items: 1 },
        { type: 'items', id: 3, seq: 0, items: items(ctx, [5]), tombstones: [] },
        { type: 'transfer-end', id: 3, batches: 2 },
      );
      await expectType(peer, 'items-ack');
      await ctx.expectFatal(peer, 'malformed-message');
    },
  },
  {
    name: 'transfer/items-out-of-sequence',
    covers: ['R-XFER-3'],
    async run(ctx) {
      await ctx.fresh();
      const peer = await ctx.open();
      await peer.say(
        { type: 'transfer-begin', id: 4, mode: 'add', items: 1 },
        { type: 'items', id: 4, seq: 1, items: items(ctx, [5]), tombstones: [] },
      );
      await ctx.expectFatal(peer, 'unexpected-message');
    },
  },
  {
    name: 'transfer/tombstone-applied',
    covers: ['R-XFER-6', 'R-REC-3'],
    async run(ctx) {
      await ctx.fresh({ certs: [0, 1] });
      const peer = await ctx.open();
      const id = bytesOf(ctx.certs.id(0));
      const r = await push(peer, { id: 5, mode: 'add', batches: [[tombstoneOf(id, 1_000_000)]] });
      assert.equal(outcomesById(r.results).get(ctx.certs.id(0)), 'deleted');
      const store = await ctx.store();
      assert.deepEqual(
        store.certificates.map((c) => c.id),
        [ctx.certs.id(1)],
      );
      assert.ok(store.tombstones.includes(ctx.certs.id(0)), 'the tombstone is kept');
    },
  },
  {
    name: 'transfer/older-tombstone-loses',
    covers: ['R-XFER-6', 'R-REC-3'],
    async run(ctx) {
      await ctx.fresh({ certs: [0] });
      const peer = await ctx.open();
      const id = bytesOf(ctx.certs.id(0));
      const r = await push(peer, { id: 6, mode: 'add', batches: [[tombstoneOf(id, 0)]] });
      assert.equal(outcomesById(r.results).get(ctx.certs.id(0)), 'unchanged');
      assert.deepEqual(await ctx.liveIds(), [ctx.certs.id(0)]);
    },
  },
  {
    name: 'transfer/push-update-replaces-same-subject',
    covers: ['R-XFER-9'],
    async run(ctx) {
      await ctx.fresh({ certs: [0, 1] });
      const peer = await ctx.open();
      const twin = ctx.certs.twin(1);
      const r = await push(peer, { id: 7, mode: 'update', batches: [[certItem(twin, 1)]] });
      const res = r.results[0];
      assert.ok(res, 'one result');
      assert.equal(res.outcome, 'updated');
      assert.equal(res.replaced && hexOf(res.replaced), ctx.certs.id(1), 'replaced names the old');
      const want = [ctx.certs.id(0), hexOf(sha256(twin))].sort();
      assert.deepEqual(await ctx.liveIds(), want);
    },
  },
  {
    name: 'transfer/push-replace-all-offers-back-first',
    covers: ['R-XFER-8'],
    async run(ctx) {
      await ctx.fresh({ certs: [0, 1, 2] });
      const peer = await ctx.open();
      const r = await push(peer, { id: 8, mode: 'replace-all', batches: [items(ctx, [0, 3])] });
      const offered = r.offers.flatMap((o) => o.items.map((i) => idOf(i)));
      assert.deepEqual(offered.sort(), [1, 2].map((n) => ctx.certs.id(n)).sort());
      assert.equal(r.offers[0]?.mode, 'add', 'the offer is a transfer of mode add');
      assert.equal(r.done.removed, 2);
      assert.deepEqual(await ctx.liveIds(), [0, 3].map((n) => ctx.certs.id(n)).sort());
    },
  },
  {
    name: 'transfer/replace-all-keeps-last-copies',
    covers: ['R-XFER-8'],
    async run(ctx) {
      await ctx.fresh({ certs: [0, 1, 2] });
      const peer = await ctx.open();
      const r = await push(peer, {
        id: 9,
        mode: 'replace-all',
        batches: [items(ctx, [0])],
        answerOffer: () => ({ outcome: 'refused', code: 'store-full' }),
      });
      assert.equal(r.done.removed, 0, 'nothing the peer refused is removed');
      assert.deepEqual(await ctx.liveIds(), [0, 1, 2].map((n) => ctx.certs.id(n)).sort());
    },
  },
  {
    name: 'transfer/pull-from-implementation',
    covers: ['R-XFER-4', 'R-XFER-5', 'R-LIM-4'],
    async run(ctx) {
      const ns = range(20, 30);
      await ctx.fresh({ certs: ns });
      const peer = await ctx.open({ hello: frameOf(runnerHello({ maxFrame: 4_096 })) });
      await peer.say({ type: 'pull-request', id: 11, mode: 'add', filter: 'all' });
      const begin = await expectType(peer, 'transfer-begin');
      assert.equal(begin.id, 11, 'the transfer takes the pull request id');
      assert.equal(begin.mode, 'add');
      const t = await receiveTransfer(peer, { checkWindow: true, begun: begin });
      const got = t.items.map((i) => idOf(i)).sort();
      assert.deepEqual(got, ns.map((n) => ctx.certs.id(n)).sort());
      assert.ok(t.batches >= 5, 'thirty 1 kB items in 4,096-byte frames need several batches');
    },
  },
  {
    name: 'transfer/pull-by-ids',
    covers: ['R-XFER-4'],
    async run(ctx) {
      await ctx.fresh({ certs: [0, 1, 2] });
      const peer = await ctx.open();
      const want = [bytesOf(ctx.certs.id(2))];
      await peer.say({ type: 'pull-request', id: 12, mode: 'add', filter: 'all', ids: want });
      const t = await receiveTransfer(peer);
      assert.equal(t.id, 12);
      assert.deepEqual(
        t.items.map((i) => idOf(i)),
        [ctx.certs.id(2)],
      );
    },
  },
  {
    name: 'transfer/implementation-pushes',
    covers: ['R-XFER-4'],
    async run(ctx) {
      await ctx.fresh({ certs: [0, 1, 2, 3] });
      const peer = await ctx.open();
      const ids = [1, 3].map((n) => ctx.certs.id(n));
      const acted = ctx.act('push', { ids, mode: 'update' });
      const t = await receiveTransfer(peer, {
        answer: (der) => ({ outcome: hexOf(sha256(der)) === ids[0] ? 'stored' : 'unchanged' }),
      });
      assert.equal(t.mode, 'update');
      assert.deepEqual(t.items.map((i) => idOf(i)).sort(), [...ids].sort());
      const r = (await acted) as { results: { id: string; outcome: string }[] };
      assert.deepEqual(
        r.results.map((x) => x.outcome).sort(),
        ['stored', 'unchanged'],
        'the implementation reports what the runner answered',
      );
    },
  },
  {
    name: 'transfer/implementation-pulls',
    covers: ['R-XFER-1', 'R-XFER-10'],
    async run(ctx) {
      await ctx.fresh({ certs: [0] });
      const peer = await ctx.open();
      const acted = ctx.act('pull', { mode: 'add' });
      const req = await expectType(peer, 'pull-request');
      assert.equal(req.mode, 'add');
      const r = await push(peer, { id: req.id, mode: 'add', batches: [items(ctx, [0, 4, 5])] });
      assert.equal(r.done.aborted, false);
      await acted;
      assert.deepEqual(await ctx.liveIds(), [0, 4, 5].map((n) => ctx.certs.id(n)).sort());
    },
  },
  {
    name: 'transfer/implementation-deletes-lists-checks',
    covers: ['R-MSG-2', 'R-MSG-4', 'R-MSG-5'],
    async run(ctx) {
      await ctx.fresh();
      const peer = await ctx.open();
      const listed = ctx.act('list');
      const lr = await expectType(peer, 'list-request');
      await peer.say({ type: 'list-page', id: lr.id, entries: [], total: 0 });
      assert.deepEqual(await listed, []);
      const x = 'cd'.repeat(32);
      const deleted = ctx.act('delete', { ids: [x] });
      const dr = await expectType(peer, 'delete-request');
      assert.deepEqual(
        dr.ids.map((i) => hexOf(i)),
        [x],
      );
      await peer.say({
        type: 'delete-result',
        id: dr.id,
        results: [{ id: bytesOf(x), outcome: 'not-found' }],
      });
      assert.deepEqual(await deleted, [{ id: x, outcome: 'not-found' }]);
      await ctx.act('check', { ids: [x], status: 'revoked' });
      const vr = await expectType(peer, 'validity-report');
      assert.deepEqual(
        vr.results.map((v) => [hexOf(v.id), v.status]),
        [[x, 'revoked']],
      );
      const bye = ctx.act('goodbye');
      await expectType(peer, 'goodbye');
      await peer.say({ type: 'goodbye' });
      await bye;
    },
  },
  {
    name: 'overflow/lru-evicts-unpinned',
    covers: ['R-OVF-1', 'R-XFER-7'],
    async run(ctx) {
      await ctx.fresh({ certs: [0, 1, 2], pinned: [0], capacity: 3, policy: 'lru' });
      const peer = await ctx.open();
      const r = await push(peer, { id: 13, mode: 'add', batches: [items(ctx, [3])] });
      const res = r.results[0];
      assert.ok(res);
      assert.equal(res.outcome, 'updated', 'an lru eviction reports updated');
      const victim = res.replaced ? hexOf(res.replaced) : '';
      assert.ok([1, 2].map((n) => ctx.certs.id(n)).includes(victim), 'the victim is unpinned');
      const live = await ctx.liveIds();
      assert.equal(live.length, 3, 'capacity holds');
      assert.ok(live.includes(ctx.certs.id(0)) && live.includes(ctx.certs.id(3)));
    },
  },
  {
    name: 'overflow/refuse',
    covers: ['R-OVF-2', 'R-XFER-7'],
    async run(ctx) {
      await ctx.fresh({ certs: [0, 1], capacity: 2, policy: 'refuse' });
      const peer = await ctx.open();
      const r = await push(peer, { id: 14, mode: 'add', batches: [items(ctx, [2])] });
      assert.deepEqual(
        r.results.map((x) => [x.outcome, x.code]),
        [['refused', 'store-full']],
      );
      assert.deepEqual(await ctx.liveIds(), [0, 1].map((n) => ctx.certs.id(n)).sort());
    },
  },
  {
    name: 'overflow/alert-victims-chosen',
    covers: ['R-OVF-3', 'R-XFER-7'],
    async run(ctx) {
      await ctx.fresh({ certs: [0, 1], capacity: 2, policy: 'alert' });
      const peer = await ctx.open();
      const held = new Set([0, 1].map((n) => ctx.certs.id(n)));
      const r = await push(peer, {
        id: 15,
        mode: 'add',
        batches: [items(ctx, [2, 3])],
        onAlert: async (a) => {
          assert.ok(a.candidates.length >= 1 && a.candidates.length <= 16, '1..16 candidates');
          for (const c of a.candidates) assert.ok(held.has(hexOf(c.id)), 'a candidate is held');
          const live = await ctx.liveIds();
          assert.ok(live.length <= 2, 'capacity holds while the alert is open');
          const victim = a.candidates[0]?.id as Uint8Array;
          held.delete(hexOf(victim));
          held.add(hexOf(a.incoming));
          return victim;
        },
      });
      assert.equal(r.alerts.length, 2, 'each item that does not fit draws an alert');
      assert.equal(hexOf(r.alerts[0]?.incoming ?? new Uint8Array(0)), ctx.certs.id(2));
      assert.deepEqual(
        r.results.map((x) => x.outcome),
        ['updated', 'updated'],
      );
      assert.deepEqual(await ctx.liveIds(), [2, 3].map((n) => ctx.certs.id(n)).sort());
    },
  },
  {
    name: 'overflow/alert-abort',
    covers: ['R-OVF-3', 'R-OVF-5'],
    async run(ctx) {
      await ctx.fresh({ certs: [0, 1], capacity: 2, policy: 'alert' });
      const peer = await ctx.open();
      const r = await push(peer, { id: 16, mode: 'add', batches: [items(ctx, [2, 3])] });
      assert.equal(r.alerts.length, 1);
      assert.equal(r.done.aborted, true, 'transfer-done says aborted');
      assert.equal(r.acks.length, 1, 'the batch is acknowledged before transfer-done');
      assert.deepEqual(await ctx.liveIds(), [0, 1].map((n) => ctx.certs.id(n)).sort());
    },
  },
  {
    name: 'overflow/victim-not-a-candidate',
    covers: ['R-OVF-4'],
    async run(ctx) {
      await ctx.fresh({ certs: [0, 1], capacity: 2, policy: 'alert' });
      const peer = await ctx.open();
      await peer.say(
        { type: 'transfer-begin', id: 17, mode: 'add', items: 1 },
        { type: 'items', id: 17, seq: 0, items: items(ctx, [2]), tombstones: [] },
      );
      await expectType(peer, 'overflow-alert');
      await peer.say({ type: 'overflow-answer', id: 17, victim: bytesOf(ctx.certs.id(9)) });
      await ctx.expectFatal(peer, 'unexpected-message');
      assert.deepEqual(await ctx.liveIds(), [0, 1].map((n) => ctx.certs.id(n)).sort());
    },
  },
  {
    name: 'keys/unrequested-private-key-refused',
    covers: ['R-KEY-1'],
    async run(ctx) {
      await ctx.fresh();
      const peer = await ctx.open();
      const key = { kind: 'key' as const, der: Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00) };
      const r = await push(peer, {
        id: 18,
        mode: 'add',
        batches: [[{ ...key, pinned: false, clock: 1, origin: RUNNER_ORIGIN }]],
      });
      assert.deepEqual(
        r.results.map((x) => [x.outcome, x.code]),
        [['refused', 'private-key-refused']],
      );
    },
  },
];
