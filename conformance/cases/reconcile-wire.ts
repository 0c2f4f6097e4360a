/**
 * Cases for spec/reconcile.md 2 to 13 with the runner as the other store: it learns the
 * versions the implementation holds (a pull, whose items carry clock and origin), computes
 * with its own model (harness/reconcile-model.ts) what the implementation must send, and
 * judges the bytes: the digest in hello, key lists, the order and form of entries, `want`,
 * wide lists, overflow by policy, and the malformed messages of 9.1 and 13. These cases
 * announce a digest whose estimate makes both sides list keys, so that they do not depend
 * on the sketch; the runs of syndromes and cells are in reconcile-runs.ts.
 */
import assert from 'node:assert/strict';
import { sha256 } from '@noble/hashes/sha2.js';
import { encodeCbor } from '../../protocol/wire/cbor.ts';
import { hexOf } from '../../protocol/wire/hex.ts';
import type { Case, Context } from '../harness/context.ts';
import { frameOfR, type Held, type RMsg } from '../harness/reconcile-messages.ts';
import {
  compareBytes,
  digestOf,
  itemHashOf,
  keyBytesOf,
  type Version,
} from '../harness/reconcile-model.ts';
import { reconcileWith } from '../harness/reconcile-peer.ts';
import {
  implRecords,
  openReconcile,
  range,
  reconcileHello,
  runnerCert,
} from '../harness/reconcile-setup.ts';
import { RUNNER_ORIGIN } from '../harness/transfer-peer.ts';
import { decoded } from '../harness/wire-peer.ts';
import { expectFatalAfter } from './session-rules.ts';
import { expectListPage } from './wire.ts';

const hex = (b: Uint8Array): string => hexOf(b);
const fpHex = (h: Held): string => hexOf(h.v.fingerprint);
const entries = (r: readonly RMsg[]) =>
  r.filter((m): m is Extract<RMsg, { type: 'entry' }> => m.type === 'entry');

/** Sends frames after a key-list exchange has put the implementation in streaming. */
async function afterKeyLists(ctx: Context, frames: Uint8Array[], code: string): Promise<void> {
  await ctx.fresh({ certs: [900, 901] });
  const own = [runnerCert(ctx, 902)];
  const { peer } = await openReconcile(ctx, own);
  const keys: RMsg = {
    type: 'keys',
    keys: keyBytesOf(own[0]?.v as Version),
    wide: false,
    last: true,
  };
  await peer.send(frameOfR(keys));
  for (const f of frames) await peer.send(f);
  await expectFatalAfter(ctx, peer, code);
}

export const RECONCILE_WIRE_CASES: readonly Case[] = [
  {
    name: 'reconcile/digest-bytes-match-the-model',
    covers: ['R-RHASH-1', 'R-RTREE-1', 'R-REST-1', 'R-REC-1'],
    async run(ctx) {
      await ctx.fresh({ certs: range(700, 12), deleted: [712, 713, 714] });
      const held = await implRecords(ctx, [712, 713, 714]);
      assert.equal(held.length, 15, 'twelve live records and three tombstones');
      const peer = await ctx.open();
      const h = decoded(peer.theirHello);
      assert.ok(h.kind === 'message' && h.message.type === 'hello');
      const want = digestOf(held.map((x) => x.v));
      assert.equal(
        hex(h.message.summary.digest),
        hex(want.bytes),
        'format, root, count, estimator',
      );
    },
  },
  {
    name: 'reconcile/key-lists-when-a-sketch-costs-more',
    covers: ['R-RKEYS-1', 'R-RKEY-1', 'R-RSCHED-3', 'R-RRTT-1'],
    async run(ctx) {
      await ctx.fresh({ certs: range(740, 4), deleted: [744] });
      const impl = await implRecords(ctx, [744]);
      const own = [...impl.slice(0, 2), runnerCert(ctx, 745)];
      const { peer, theirs, announced } = await openReconcile(ctx, own);
      const t = await reconcileWith(peer, own, theirs, { announced });
      assert.equal(t.mode, 'keys');
      assert.equal(t.received[0]?.type, 'keys', 'its list comes unasked, right after hello');
      const firstEntry = t.received.findIndex((r) => r.type === 'entry' || r.type === 'done');
      assert.ok(
        t.received.slice(0, firstEntry).every((r) => r.type === 'keys'),
        'then its entries, as soon as the runner’s list was in',
      );
      const lists = t.received.filter(
        (r): r is Extract<RMsg, { type: 'keys' }> => r.type === 'keys',
      );
      assert.ok(
        lists.every((k) => !k.wide),
        'sketch keys, not wide',
      );
      assert.equal(lists[lists.length - 1]?.last, true, 'the last run says last');
      const listed: string[] = [];
      const all = Buffer.concat(lists.map((k) => k.keys));
      for (let at = 0; at < all.length; at += 6)
        listed.push(all.subarray(at, at + 6).toString('hex'));
      assert.deepEqual(
        listed.sort(),
        impl.map((h) => hex(keyBytesOf(h.v))).sort(),
        'one key per record',
      );
      assert.ok((await ctx.liveIds()).includes(ctx.certs.id(745)));
    },
  },
  {
    name: 'reconcile/empty-store-sends-an-empty-key-list',
    covers: ['R-RKEYS-1'],
    async run(ctx) {
      await ctx.fresh();
      const own = [runnerCert(ctx, 750), runnerCert(ctx, 751)];
      const { peer, theirs, announced } = await openReconcile(ctx, own);
      const t = await reconcileWith(peer, own, theirs, { announced });
      assert.deepEqual(
        t.received
          .filter((r) => r.type === 'keys')
          .map((k) => k.type === 'keys' && [k.keys.length, k.last]),
        [[0, true]],
      );
      assert.deepEqual(await ctx.liveIds(), [ctx.certs.id(750), ctx.certs.id(751)].sort());
    },
  },
  {
    name: 'reconcile/entries-in-order-deletions-metadata-full',
    covers: ['R-RSTREAM-1', 'R-RSTREAM-2', 'R-REC-6'],
    async run(ctx) {
      await ctx.fresh({ certs: range(760, 10) });
      const base = await implRecords(ctx);
      await ctx.impl.request('load', {
        certificates: [
          { der: ctx.certs.derHex(763), label: 'relabelled' },
          ...[770, 771].map((n) => ({ der: ctx.certs.derHex(n) })),
        ],
        delete: [761, 762].map((n) => ctx.certs.id(n)),
      });
      const { peer, theirs, announced } = await openReconcile(ctx, base);
      const t = await reconcileWith(peer, base, theirs, { announced });
      const sent = entries(t.received);
      const group = (e: (typeof sent)[number]): number => (e.v.deleted ? 0 : e.der ? 2 : 1);
      assert.deepEqual(
        sent.map(group),
        [0, 0, 1, 2, 2],
        'deletions, then metadata-only, then full',
      );
      assert.deepEqual(
        sent
          .slice(0, 2)
          .map((e) => hexOf(e.v.fingerprint))
          .sort(),
        [761, 762].map((n) => ctx.certs.id(n)).sort(),
      );
      const meta = sent[2];
      assert.equal(
        meta && hexOf(meta.v.fingerprint),
        ctx.certs.id(763),
        'the relabel crosses without DER',
      );
      assert.equal(meta?.label, 'relabelled');
      assert.deepEqual(
        sent
          .slice(3)
          .map((e) => hexOf(e.v.fingerprint))
          .sort(),
        [770, 771].map((n) => ctx.certs.id(n)).sort(),
      );
      const s = await ctx.store();
      assert.equal(
        s.certificates.find((c) => c.id === ctx.certs.id(763))?.label,
        'relabelled',
        'the last writer wins',
      );
      assert.ok(
        s.tombstones.includes(ctx.certs.id(761)),
        'an older live copy does not undo a deletion',
      );
    },
  },
  {
    name: 'reconcile/want-for-a-metadata-only-winner',
    covers: ['R-RWANT-1', 'R-REC-5'],
    async run(ctx) {
      await ctx.fresh({ certs: [780, 781], deleted: [782] });
      const impl = await implRecords(ctx, [782]);
      const tomb = impl.find((h) => h.v.deleted) as Held;
      const reimport: Held = { ...runnerCert(ctx, 782, tomb.v.clock + 10) };
      const own = [...impl.filter((h) => !h.v.deleted), reimport];
      const { peer, theirs, announced } = await openReconcile(ctx, own);
      const t = await reconcileWith(peer, own, theirs, { announced, expectWants: 1 });
      const want = t.received.find((r) => r.type === 'want');
      assert.ok(want && want.type === 'want', 'the implementation asks for the DER');
      assert.deepEqual(
        want.records.map((r) => hexOf(r.fingerprint)),
        [ctx.certs.id(782)],
      );
      assert.ok(
        (await ctx.liveIds()).includes(ctx.certs.id(782)),
        'a re-import beats the deletion',
      );
    },
  },
  {
    name: 'reconcile/answers-a-want',
    covers: ['R-RWANT-2'],
    async run(ctx) {
      await ctx.fresh({ certs: [790, 791] });
      const base = await implRecords(ctx);
      await ctx.impl.request('load', {
        certificates: [{ der: ctx.certs.derHex(791), label: 'work' }],
      });
      const gone: Held = {
        v: { ...(base[1] as Held).v, deleted: true, clock: 1, origin: RUNNER_ORIGIN },
      };
      const own = [base[0] as Held, gone];
      const { peer, theirs, announced } = await openReconcile(ctx, own);
      const t = await reconcileWith(peer, own, theirs, { announced, wantMissing: true });
      const after = t.received.slice(t.received.findIndex((r) => r.type === 'done') + 1);
      const full = entries(after).find((e) => hexOf(e.v.fingerprint) === ctx.certs.id(791));
      assert.ok(full?.der, 'the want is answered with the record and its DER');
      assert.equal(after[after.length - 1]?.type, 'done', 'then done');
    },
  },
  {
    name: 'reconcile/wide-lists-when-the-difference-is-empty',
    covers: ['R-RWIDE-1'],
    async run(ctx) {
      await ctx.fresh({ certs: range(800, 4) });
      const impl = await implRecords(ctx);
      // Two versions under one 48-bit key look like this: equal keys, different roots.
      const root = digestOf(impl.map((h) => h.v)).root.map((b) => b ^ 0xff);
      const { peer, theirs, announced } = await openReconcile(ctx, impl, { root });
      const t = await reconcileWith(peer, impl, theirs, { announced });
      assert.equal(t.mode, 'wide');
      const wide = t.received.filter(
        (r): r is Extract<RMsg, { type: 'keys' }> => r.type === 'keys' && r.wide,
      );
      const listed: string[] = [];
      const all = Buffer.concat(wide.map((k) => k.keys));
      for (let at = 0; at < all.length; at += 16)
        listed.push(all.subarray(at, at + 16).toString('hex'));
      assert.deepEqual(
        listed.sort(),
        impl.map((h) => hex(itemHashOf(h.v))).sort(),
        'its item hashes',
      );
      assert.equal(entries(t.received).length, 0, 'nothing differs: no entry');
    },
  },
  {
    name: 'reconcile/lru-evicts-only-what-the-peer-holds',
    covers: ['R-ROVF-1', 'R-XFER-7'],
    async run(ctx) {
      await ctx.fresh({ certs: range(810, 10), capacity: 10, policy: 'lru' });
      const impl = await implRecords(ctx);
      const shared = impl.slice(0, 7);
      const own = [...shared, ...range(830, 6).map((n) => runnerCert(ctx, n))];
      const { peer, theirs, announced } = await openReconcile(ctx, own);
      await reconcileWith(peer, own, theirs, { announced });
      const role =
        compareBytes(theirs.subarray(1, 17), digestOf(own.map((h) => h.v)).root) < 0 ? 0 : 1;
      const eligible = shared
        .filter((h) => ((itemHashOf(h.v)[14] as number) & 1) === role)
        .map(fpHex);
      const s = await ctx.store();
      const live = s.certificates.map((c) => c.id);
      assert.ok(live.length <= 10, 'capacity holds');
      const gone = impl.map(fpHex).filter((id) => !live.includes(id));
      for (const id of gone)
        assert.ok(eligible.includes(id), 'only entries the peer holds, on this side’s half');
      for (const h of impl.slice(7))
        assert.ok(live.includes(fpHex(h)), 'an entry only it holds stays');
      for (const id of gone)
        assert.ok(!s.tombstones.includes(id), 'an eviction writes no tombstone');
      const arrived = own.slice(7).filter((h) => live.includes(fpHex(h))).length;
      assert.equal(arrived, Math.min(6, eligible.length), 'as many arrive as may be evicted');
    },
  },
  {
    name: 'reconcile/refuse-leaves-entries-out',
    covers: ['R-ROVF-2'],
    async run(ctx) {
      await ctx.fresh({ certs: range(840, 3), capacity: 3, policy: 'refuse' });
      const impl = await implRecords(ctx);
      const own = [...impl, runnerCert(ctx, 845), runnerCert(ctx, 846)];
      const { peer, theirs, announced } = await openReconcile(ctx, own);
      await reconcileWith(peer, own, theirs, { announced });
      assert.deepEqual(await ctx.liveIds(), impl.map(fpHex).sort(), 'nothing was added or evicted');
      await peer.say({ type: 'list-request', id: 7, order: 'store', filter: 'all', limit: 10 });
      await expectListPage(peer);
    },
  },
  {
    name: 'reconcile/raises-its-clock-to-what-it-merges',
    covers: ['R-ENT-1', 'R-REC-7'],
    async run(ctx) {
      await ctx.fresh({ certs: [850] });
      const impl = await implRecords(ctx);
      const own = [...impl, runnerCert(ctx, 851, 5_000_000)];
      const { peer, theirs, announced } = await openReconcile(ctx, own);
      await reconcileWith(peer, own, theirs, { announced });
      peer.reset();
      await ctx.impl.request('load', { certificates: [{ der: ctx.certs.derHex(852) }] });
      const after = await implRecords(ctx);
      const merged = after.find((h) => fpHex(h) === ctx.certs.id(851));
      assert.deepEqual(
        [merged?.v.clock, hexOf(merged?.v.origin ?? new Uint8Array(0))],
        [5_000_000, hexOf(RUNNER_ORIGIN)],
        'a merged version is kept as it came',
      );
      const fresh = after.find((h) => fpHex(h) === ctx.certs.id(852));
      assert.ok((fresh?.v.clock ?? 0) > 5_000_000, 'a later local write has a higher clock');
    },
  },
  {
    name: 'sync/a-side-that-receives-first-begins',
    covers: ['R-SYNC-2'],
    async run(ctx) {
      await ctx.fresh({ certs: [860, 861] });
      const impl = await implRecords(ctx);
      const own = [impl[0] as Held, runnerCert(ctx, 862)];
      const { peer, theirs, announced } = await openReconcile(ctx, own, { sync: 'on-request' });
      const t = await reconcileWith(peer, own, theirs, { announced, keysFirst: true });
      assert.ok(t.received.length > 0, 'the implementation took part');
      assert.ok((await ctx.liveIds()).includes(ctx.certs.id(862)));
    },
  },
  {
    name: 'reconcile/done-before-the-difference',
    covers: ['R-RERR-3'],
    async run(ctx) {
      await ctx.fresh({ certs: [910] });
      const { peer } = await openReconcile(ctx, [runnerCert(ctx, 911)]);
      await peer.send(frameOfR({ type: 'done' }));
      await expectFatalAfter(ctx, peer, 'unexpected-message');
    },
  },
  {
    name: 'reconcile/cells-while-listing-keys',
    covers: ['R-RERR-3'],
    async run(ctx) {
      await ctx.fresh({ certs: [912] });
      const { peer } = await openReconcile(ctx, [runnerCert(ctx, 913)]);
      await peer.send(frameOfR({ type: 'cells', start: 0, cells: new Uint8Array(24) }));
      await expectFatalAfter(ctx, peer, 'unexpected-message');
    },
  },
  {
    name: 'reconcile/key-list-longer-than-announced',
    covers: ['R-RKEYS-2', 'R-RERR-1'],
    async run(ctx) {
      await ctx.fresh({ certs: [914, 915] });
      const own = [runnerCert(ctx, 916)];
      const { peer } = await openReconcile(ctx, own);
      const two = Buffer.concat([
        keyBytesOf((own[0] as Held).v),
        keyBytesOf(runnerCert(ctx, 917).v),
      ]);
      await peer.send(frameOfR({ type: 'keys', keys: two, wide: false, last: true }));
      await expectFatalAfter(ctx, peer, 'limit-exceeded');
    },
  },
  {
    name: 'reconcile/cells-not-8-bytes-each',
    covers: ['R-RMSG-1', 'R-RERR-2'],
    async run(ctx) {
      await ctx.fresh({ certs: [918] });
      const { peer } = await openReconcile(ctx, [runnerCert(ctx, 919)]);
      await peer.send(frameOfR({ type: 'cells', start: 0, cells: new Uint8Array(7) }));
      await expectFatalAfter(ctx, peer, 'malformed-message');
    },
  },
  {
    name: 'reconcile/type-31-is-unknown',
    covers: ['R-RMSG-2', 'R-RERR-4'],
    async run(ctx) {
      await ctx.fresh({ certs: [920] });
      const { peer } = await openReconcile(ctx, [runnerCert(ctx, 921)]);
      await peer.send(encodeCbor([1, 31, new Map()]));
      await expectFatalAfter(ctx, peer, 'unknown-message');
    },
  },
  {
    name: 'reconcile/der-not-hashing-to-its-fingerprint',
    covers: ['R-RMSG-3', 'R-RERR-2'],
    async run(ctx) {
      const lie = runnerCert(ctx, 922);
      const entry: RMsg = { type: 'entry', v: lie.v, pinned: false, der: ctx.certs.der(923) };
      await afterKeyLists(ctx, [frameOfR(entry)], 'malformed-message');
    },
  },
  {
    name: 'reconcile/label-over-1024-bytes',
    covers: ['R-RMSG-4', 'R-RERR-1'],
    async run(ctx) {
      const h = runnerCert(ctx, 924);
      const entry: RMsg = {
        type: 'entry',
        v: h.v,
        label: 'x'.repeat(1_025),
        pinned: false,
        der: h.der as Uint8Array,
      };
      await afterKeyLists(ctx, [frameOfR(entry)], 'limit-exceeded');
    },
  },
  {
    name: 'reconcile/want-of-257-records',
    covers: ['R-RMSG-5', 'R-RERR-1'],
    async run(ctx) {
      const records = Array.from({ length: 257 }, (_, i) => ({
        kind: 1 as const,
        fingerprint: sha256(Uint8Array.of(i, i >> 8)),
      }));
      await afterKeyLists(ctx, [frameOfR({ type: 'want', records })], 'limit-exceeded');
    },
  },
  {
    name: 'reconcile/digest-of-a-wrong-length',
    covers: ['R-RDIG-1', 'R-RERR-2'],
    async run(ctx) {
      await ctx.fresh({ certs: [925] });
      const peer = await ctx.open({
        hello: reconcileHello([], new Uint8Array(40).fill(1)),
      });
      await expectFatalAfter(ctx, peer, 'malformed-message');
    },
  },
  {
    name: 'reconcile/digest-announcing-over-a-million',
    covers: ['R-RDIG-1'],
    async run(ctx) {
      await ctx.fresh({ certs: [926] });
      const digest = digestOf([]).bytes.slice();
      new DataView(digest.buffer).setUint32(17, 1_000_001);
      const peer = await ctx.open({ hello: reconcileHello([], digest) });
      await expectFatalAfter(ctx, peer, 'limit-exceeded');
    },
  },
  {
    name: 'misbehaving/silent-mid-reconcile',
    covers: ['R-SES-3'],
    async run(ctx) {
      await ctx.fresh({ certs: [927] });
      const own = [runnerCert(ctx, 928)];
      const { peer } = await openReconcile(ctx, own, { listen: { timeouts: { answer: 400 } } });
      await expectFatalAfter(ctx, peer, 'timeout');
    },
  },
];
