/**
 * Cases for the transfer modes as the receiver plans them (spec/reconcile.md 11, with
 * spec/protocol.md 8.5), in both directions: which record an update replaces, what a
 * replace-all keeps, and the modes of a pull the implementation makes.
 */
import assert from 'node:assert/strict';
import { sha256 } from '@noble/hashes/sha2.js';
import { hexOf } from '../../protocol/wire/hex.ts';
import type { Case, Context } from '../harness/context.ts';
import { certItem, push, receiveTransfer } from '../harness/transfer-peer.ts';
import { expectType } from './messages.ts';

const idOf = (der: Uint8Array): string => hexOf(sha256(der));
const ids = (ctx: Context, ns: number[]): string[] => ns.map((n) => ctx.certs.id(n));

export const MODE_CASES: readonly Case[] = [
  {
    name: 'modes/update-replaces-an-expired-one-first',
    covers: ['R-MODE-1', 'R-XFER-9'],
    async run(ctx) {
      // Two certificates of one subject: the expired one is used more, yet goes first.
      const { expired, current } = ctx.certs.special;
      await ctx.fresh();
      await ctx.impl.request('load', {
        certificates: [
          { der: hexOf(current), uses: 0 },
          { der: hexOf(expired), uses: 9 },
        ],
      });
      const peer = await ctx.open();
      const twin = Uint8Array.from(current);
      twin[twin.length - 1] = (twin[twin.length - 1] as number) ^ 1;
      const r = await push(peer, { id: 1, mode: 'update', batches: [[certItem(twin, 1)]] });
      assert.equal(r.results[0]?.outcome, 'updated');
      assert.equal(hexOf(r.results[0]?.replaced ?? new Uint8Array(0)), idOf(expired));
      assert.deepEqual(await ctx.liveIds(), [idOf(current), idOf(twin)].sort());
    },
  },
  {
    name: 'modes/update-replaces-the-least-used',
    covers: ['R-MODE-1'],
    async run(ctx) {
      await ctx.fresh();
      const a = ctx.certs.der(60);
      const b = ctx.certs.twin(60);
      await ctx.impl.request('load', {
        certificates: [
          { der: hexOf(a), uses: 4 },
          { der: hexOf(b), uses: 1 },
        ],
      });
      const peer = await ctx.open();
      const c = Uint8Array.from(b);
      c[c.length - 2] = (c[c.length - 2] as number) ^ 1;
      const r = await push(peer, { id: 2, mode: 'update', batches: [[certItem(c, 1)]] });
      assert.equal(hexOf(r.results[0]?.replaced ?? new Uint8Array(0)), idOf(b), 'fewest uses');
    },
  },
  {
    name: 'modes/update-never-replaces-a-pinned-one',
    covers: ['R-MODE-1'],
    async run(ctx) {
      await ctx.fresh({ certs: [61], pinned: [61] });
      const peer = await ctx.open();
      const twin = ctx.certs.twin(61);
      const r = await push(peer, { id: 3, mode: 'update', batches: [[certItem(twin, 1)]] });
      assert.deepEqual(
        r.results.map((x) => [x.outcome, x.replaced]),
        [['stored', undefined]],
        'with nothing to replace, update adds',
      );
      assert.deepEqual(await ctx.liveIds(), [ctx.certs.id(61), idOf(twin)].sort());
    },
  },
  {
    name: 'modes/implementation-pushes-replace-all',
    covers: ['R-XFER-8', 'R-XFER-4'],
    async run(ctx) {
      await ctx.fresh({ certs: [0, 1, 2] });
      const peer = await ctx.open();
      const acted = ctx.act('push', { ids: ids(ctx, [0, 2]), mode: 'replace-all' });
      const t = await receiveTransfer(peer);
      assert.equal(t.mode, 'replace-all');
      assert.deepEqual(
        t.items.map((i) => idOf(i.der ?? new Uint8Array(0))).sort(),
        ids(ctx, [0, 2]).sort(),
      );
      await acted;
    },
  },
  {
    name: 'modes/implementation-pulls-update',
    covers: ['R-XFER-9'],
    async run(ctx) {
      await ctx.fresh({ certs: [62, 63] });
      const peer = await ctx.open();
      const acted = ctx.act('pull', { mode: 'update' });
      const req = await expectType(peer, 'pull-request');
      assert.equal(req.mode, 'update', 'the pull names the mode the requester stores in');
      const twin = ctx.certs.twin(62);
      await push(peer, { id: req.id, mode: 'update', batches: [[certItem(twin, 1)]] });
      const r = (await acted) as { results: { id: string; outcome: string; replaced?: string }[] };
      assert.deepEqual(
        r.results.map((x) => [x.id, x.outcome, x.replaced]),
        [[idOf(twin), 'updated', ctx.certs.id(62)]],
      );
      assert.deepEqual(await ctx.liveIds(), [ctx.certs.id(63), idOf(twin)].sort());
    },
  },
  {
    name: 'modes/implementation-pulls-replace-all',
    covers: ['R-XFER-8'],
    async run(ctx) {
      await ctx.fresh({ certs: [64, 65, 66] });
      const peer = await ctx.open();
      const acted = ctx.act('pull', { mode: 'replace-all' });
      const req = await expectType(peer, 'pull-request');
      assert.equal(req.mode, 'replace-all');
      const r = await push(peer, {
        id: req.id,
        mode: 'replace-all',
        batches: [[certItem(ctx.certs.der(64), 1)]],
      });
      const offered = r.offers.flatMap((o) => o.items.map((i) => idOf(i.der ?? new Uint8Array(0))));
      assert.deepEqual(offered.sort(), ids(ctx, [65, 66]).sort(), 'the rest is offered back first');
      assert.equal(r.done.removed, 2);
      await acted;
      assert.deepEqual(await ctx.liveIds(), ids(ctx, [64]));
    },
  },
];
