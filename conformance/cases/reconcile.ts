/**
 * Cases for spec/reconcile.md: the store digest in hello, and reconciliation of seeded
 * random stores between two instances of the implementation (sizes from empty to 10,000,
 * differences on either side, deletions, clustered fingerprints). What is judged is the
 * stores each instance reports afterwards: both hold the same live items, every deletion
 * won over the older copies, nothing else was lost.
 *
 * Known shortcoming: two instances of one implementation reconcile with each other, so a
 * fault both share symmetrically in the sketch messages could go unseen; the digest case
 * and the convergence of the reported stores are what this checks.
 */
import assert from 'node:assert/strict';
import { sha256 } from '@noble/hashes/sha2.js';
import { hexOf } from '../../protocol/wire/hex.ts';
import type { Case, Context } from '../harness/context.ts';
import type { Impl, Json } from '../harness/impl.ts';
import { decoded, frameOf, runnerHello } from '../harness/wire-peer.ts';

/** The shape of one convergence case, as numbers of certificates. */
interface Plan {
  readonly base: number[];
  readonly onlyA: number[];
  readonly onlyB: number[];
  readonly deleteOnA: number[];
  readonly deleteOnB: number[];
  /**
   * Load the base into both stores directly instead of syncing it across first: each then
   * holds its own version of every base record (the case of two stores filled from the same
   * files). Deletions are not planned then: which version wins is a matter of clocks.
   */
  readonly loadBaseOnBoth?: boolean;
}

/** Pool numbers are spread by size so plans of different cases never share certificates. */
function plan(ctx: Context, from: number, base: number, diff: number, deletions: number): Plan {
  const pool = Array.from({ length: base + 2 * diff }, (_, i) => from + i);
  const order = ctx.rng.sample(pool.length, pool.length).map((i) => pool[i] as number);
  const b = order.slice(0, base);
  const dels = ctx.rng.sample(base, Math.min(base, 2 * deletions)).map((i) => b[i] as number);
  return {
    base: b,
    onlyA: order.slice(base, base + diff),
    onlyB: order.slice(base + diff),
    deleteOnA: dels.slice(0, deletions),
    deleteOnB: dels.slice(deletions),
  };
}

/** `n` pool numbers from `from` up whose fingerprints share their first byte `tag`. */
function clustered(ctx: Context, from: number, n: number, tag: number): number[] {
  const out: number[] = [];
  for (let i = from; out.length < n; i++) {
    if (sha256(ctx.certs.der(i))[0] === tag) out.push(i);
  }
  return out;
}

async function load(ctx: Context, impl: Impl, ns: number[], del: number[], peers: Json[]) {
  await impl.request('load', {
    certificates: ns.map((n) => ({ der: ctx.certs.derHex(n) })),
    delete: del.map((n) => ctx.certs.id(n)),
    peers,
  });
}

/** One reconcile session: A listens, B connects and syncs, then says goodbye. */
async function sync(a: Impl, b: Impl): Promise<void> {
  const { port } = (await a.request('listen')) as { port: number };
  await b.request('connect', { port });
  await b.request('act', { action: 'sync' });
  await b.request('act', { action: 'goodbye' });
  const ended = (await a.request('wait', { timeoutMs: 10_000 })) as { ended: boolean };
  assert.ok(ended.ended, 'the listening side saw the session end');
}

async function storeOf(impl: Impl): Promise<{ live: string[]; tombstones: string[] }> {
  const s = (await impl.request('store')) as {
    certificates: { id: string }[];
    tombstones: string[];
  };
  return { live: s.certificates.map((c) => c.id).sort(), tombstones: s.tombstones };
}

/**
 * Both instances start from a shared `base` (synced once, so they hold the same versions),
 * then each adds and deletes on its own side, then they sync again.
 */
async function converge(ctx: Context, p: Plan): Promise<void> {
  await ctx.fresh({ certs: p.base });
  const a = ctx.impl;
  const b = await ctx.second();
  const keyB = ((await b.request('info')) as { identityKey: string }).identityKey;
  await a.request('load', { peers: [{ name: 'b', key: keyB }] });
  await b.request('load', { peers: [{ name: 'a', key: hexOf(ctx.implKey) }] });
  if (p.loadBaseOnBoth) {
    await load(ctx, b, p.base, [], []);
  } else {
    await sync(a, b);
    const first = await storeOf(b);
    assert.deepEqual(first.live, p.base.map((n) => ctx.certs.id(n)).sort(), 'B took the base');
  }
  await load(ctx, a, p.onlyA, p.deleteOnA, []);
  await load(ctx, b, p.onlyB, p.deleteOnB, []);
  await sync(a, b);
  const gone = new Set([...p.deleteOnA, ...p.deleteOnB]);
  const want = [...p.base.filter((n) => !gone.has(n)), ...p.onlyA, ...p.onlyB]
    .map((n) => ctx.certs.id(n))
    .sort();
  const [sa, sb] = [await storeOf(a), await storeOf(b)];
  assert.equal(sa.live.length, want.length, 'A holds exactly the merged set');
  assert.deepEqual(sa.live, want, 'A holds the merged set');
  assert.deepEqual(sb.live, want, 'B holds the merged set');
  for (const n of gone) {
    const id = ctx.certs.id(n);
    assert.ok(sa.tombstones.includes(id) && sb.tombstones.includes(id), 'deletions travel');
  }
}

function convergeCase(name: string, make: (ctx: Context) => Plan, large = false): Case {
  return { name, covers: ['R-REC-2', 'R-REC-3'], large, run: (ctx) => converge(ctx, make(ctx)) };
}

export const RECONCILE_CASES: readonly Case[] = [
  {
    name: 'reconcile/digest-counts-records',
    covers: ['R-REC-1'],
    async run(ctx) {
      await ctx.fresh({ certs: [0, 1, 2, 3, 4], deleted: [5, 6] });
      const peer = await ctx.open();
      const hello = decoded(peer.theirHello);
      assert.ok(hello.kind === 'message' && hello.message.type === 'hello');
      const s = hello.message.summary;
      assert.equal(s.certificates, 5, 'summary counts the live certificates');
      assert.equal(s.digest.length, 63, 'the digest is 63 bytes');
      assert.equal(s.digest[0], 1, 'format 1');
      const count = new DataView(s.digest.buffer, s.digest.byteOffset).getUint32(17);
      assert.equal(count, 7, 'the digest counts live records and tombstones');
    },
  },
  {
    name: 'reconcile/equal-digests-send-nothing',
    covers: ['R-REC-4'],
    async run(ctx) {
      await ctx.fresh({ certs: [0, 1, 2] });
      const first = await ctx.open();
      const theirs = decoded(first.theirHello);
      assert.ok(theirs.kind === 'message' && theirs.message.type === 'hello');
      first.reset();
      const hello = runnerHello({
        capabilities: [1], // protocol.md 7.2: capability code 1 is reconcile
        sync: 'auto',
        summary: { certificates: 3, crls: 0, digest: theirs.message.summary.digest },
      });
      const peer = await ctx.open({ hello: frameOf(hello) });
      assert.equal(await peer.next(400), 'timeout', 'equal digests: no reconcile frame');
      await peer.say({ type: 'list-request', id: 7, order: 'store', filter: 'all', limit: 10 });
      const m = await peer.message();
      assert.ok(m.kind === 'message' && m.message.type === 'list-page');
    },
  },
  convergeCase('reconcile/empty-stores', () => ({
    base: [],
    onlyA: [],
    onlyB: [],
    deleteOnA: [],
    deleteOnB: [],
  })),
  convergeCase('reconcile/one-side-empty', (ctx) => plan(ctx, 100_000, 0, 15, 0)),
  convergeCase('reconcile/small-both-sides-deletions', (ctx) => plan(ctx, 110_000, 60, 12, 5)),
  convergeCase('reconcile/clustered-fingerprints', (ctx) => ({
    base: Array.from({ length: 50 }, (_, i) => 120_000 + i),
    onlyA: clustered(ctx, 121_000, 25, 0x00),
    onlyB: clustered(ctx, 140_000, 25, 0x00),
    deleteOnA: [120_003, 120_004],
    deleteOnB: [120_010],
  })),
  convergeCase('reconcile/1000-with-differences', (ctx) => plan(ctx, 200_000, 1_000, 60, 20), true),
  convergeCase(
    'reconcile/10000-with-differences',
    (ctx) => ({ ...plan(ctx, 300_000, 10_000, 40, 0), loadBaseOnBoth: true }),
    true,
  ),
];
