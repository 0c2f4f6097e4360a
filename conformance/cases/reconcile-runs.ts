/**
 * Cases for spec/reconcile.md 8.1, 8.2 and 9.2 with the runner as the other store. The runner
 * loaded the implementation's store and learnt its versions (a pull), so its own model
 * says, byte for byte, which syndromes or cells the implementation must send, where its
 * first units must reach, at which checkpoint both sides decode, and which entries follow;
 * harness/run-peer.ts judges every unit message as it comes. Then the refusals of 9.2 rule 2
 * and 13: units out of order, past the cap, of the wrong kind, and types 22..31.
 */
import assert from 'node:assert/strict';
import { encodeCbor, type CborKey, type CborValue } from '../../protocol/wire/cbor.ts';
import { hexOf } from '../../protocol/wire/hex.ts';
import type { Case, Context } from '../harness/context.ts';
import { frameOfR, type Held, type RMsg } from '../harness/reconcile-messages.ts';
import { keyHex } from '../harness/reconcile-model.ts';
import { keyOfHeld, reconcileWith, type Transcript } from '../harness/reconcile-peer.ts';
import { implRecords, openReconcile, range, runnerCert } from '../harness/reconcile-setup.ts';
import { cellSchedule, planRun } from '../harness/run-schedule.ts';
import type { WirePeer } from '../harness/wire-peer.ts';
import { expectFatalAfter } from './session-rules.ts';

/** The two stores of a run case, as numbers of certificates from the pool. */
interface Shape {
  /** First pool number: cases use disjoint ranges. */
  readonly from: number;
  readonly shared: number;
  readonly implOnly: number;
  readonly ownOnly: number;
  /** Shared records the implementation deletes after the runner took its copy. */
  readonly implDeletes?: number;
}

/** Both stores of a shape: the implementation's records with their versions, and the runner's. */
async function stores(ctx: Context, s: Shape): Promise<{ impl: Held[]; own: Held[] }> {
  const pool = range(s.from, s.shared + s.implOnly + s.ownOnly);
  const order = ctx.rng.sample(pool.length, pool.length).map((i) => pool[i] as number);
  const shared = order.slice(0, s.shared);
  const implOnly = order.slice(s.shared, s.shared + s.implOnly);
  const ownOnly = order.slice(s.shared + s.implOnly);
  await ctx.fresh({ certs: [...shared, ...implOnly] });
  let impl = await implRecords(ctx);
  const isShared = new Set(shared.map((n) => ctx.certs.id(n)));
  const own = [
    ...impl.filter((h) => isShared.has(hexOf(h.v.fingerprint))),
    ...ownOnly.map((n) => runnerCert(ctx, n)),
  ];
  const gone = shared.slice(0, s.implDeletes ?? 0);
  if (gone.length > 0) {
    await ctx.impl.request('load', { delete: gone.map((n) => ctx.certs.id(n)) });
    impl = await implRecords(ctx, gone);
    impl = impl.filter((h) => h.v.deleted || !gone.some((n) => ctx.certs.id(n) === fp(h)));
  }
  return { impl, own };
}

const fp = (h: Held): string => hexOf(h.v.fingerprint);
const versionName = (v: Held['v']): string =>
  `${hexOf(v.fingerprint)}/${v.clock}/${hexOf(v.origin)}/${v.deleted ? 'deleted' : 'live'}`;

/**
 * Reconciles `own` with the implementation's store, the runner judging each run, and then
 * the entries: exactly the versions of the implementation whose keys the runner lacks, then
 * `done`; afterwards the implementation holds every live record only the runner held.
 */
async function play(
  ctx: Context,
  impl: readonly Held[],
  own: readonly Held[],
  o: { estimate?: number | null; lateUnits?: 'separate' } = {},
): Promise<Transcript> {
  const opened = await openReconcile(ctx, own, { estimate: o.estimate ?? null });
  const t = await reconcileWith(opened.peer, own, opened.theirs, {
    announced: opened.announced,
    impl,
    ...(o.lateUnits ? { lateUnits: o.lateUnits } : {}),
  });
  const ownKeys = new Set(own.map((h) => keyHex(keyOfHeld(h))));
  const lacked = impl
    .filter((h) => !ownKeys.has(keyHex(keyOfHeld(h))))
    .map((h) => versionName(h.v));
  const sent = t.received.flatMap((m) => (m.type === 'entry' ? [versionName(m.v)] : []));
  assert.deepEqual(sent.sort(), lacked.sort(), 'it sends exactly the versions the runner lacks');
  const afterUnits = t.received.filter((m) => m.type !== 'cells' && m.type !== 'syndromes');
  assert.equal(afterUnits[afterUnits.length - 1]?.type, 'done', 'then done');
  const implIds = new Set(impl.map(fp));
  const live = new Set(await ctx.liveIds());
  for (const h of own.filter((x) => !x.v.deleted && !implIds.has(fp(x)))) {
    assert.ok(live.has(fp(h)), 'the records only the runner held arrived');
  }
  return t;
}

/**
 * `own`, or `own` less one shared record (which the implementation then sends too), such that
 * a cell run with estimate `e` decodes before its cap: now and then two keys share every cell
 * of a short prefix (8.2), and the cases that use this are about a run that decodes.
 */
function decodingOwn(impl: readonly Held[], own: readonly Held[], e: number): Held[] {
  const implKeys = impl.map(keyOfHeld);
  for (let drop = -1; drop < 10; drop++) {
    const mine = own.filter((_, i) => i !== drop);
    const schedule = cellSchedule(e, impl.length, mine.length);
    assert.ok(schedule, `a cell run applies for the estimate ${e}`);
    if (planRun('cells', schedule, implKeys, mine.map(keyOfHeld)).decoded) return mine;
  }
  return assert.fail('no difference of these stores that a cell run decodes');
}

/** The kinds of the runs played and whether each decoded, e.g. `syndromes:decoded`. */
const runsOf = (t: Transcript): string[] =>
  t.runs.map((r) => `${r.kind}:${r.plan.decoded ? 'decoded' : 'capped'}`);

const SYNDROME_RULES = ['R-SYN-1', 'R-SYN-2', 'R-SYN-3', 'R-RMSG-6', 'R-RSCHED-4', 'R-RSCHED-5'];
const RUN_RULES = ['R-RSCHED-6', 'R-RSCHED-7', 'R-RSCHED-9', 'R-RRTT-1', 'R-RRTT-2'];

/** A syndrome run for a small difference, with the runner's own digest. */
function syndromeCase(name: string, shape: Shape): Case {
  return {
    name,
    covers: [...SYNDROME_RULES, ...RUN_RULES, 'R-RSTREAM-1'],
    async run(ctx) {
      const { impl, own } = await stores(ctx, shape);
      const t = await play(ctx, impl, own);
      assert.deepEqual(runsOf(t), ['syndromes:decoded']);
    },
  };
}

/**
 * Opens a session whose run the runner forces by its estimate (and, for cells, by a large
 * announced count), and checks that the implementation's first message is of that run.
 */
async function forcedRun(ctx: Context, kind: 'syndromes' | 'cells'): Promise<WirePeer> {
  await ctx.fresh({ certs: [960, 961, 962, 963] });
  const own = [runnerCert(ctx, 964)];
  const o = kind === 'syndromes' ? { estimate: 0 } : { estimate: 25, count: 1_000 };
  const { peer } = await openReconcile(ctx, own, o);
  const first = await peer.message();
  const code = kind === 'syndromes' ? 21 : 16;
  assert.ok(
    first.kind === 'reconcile' && first.code === code,
    `the implementation begins a run of ${kind} here (spec/reconcile.md 9.2)`,
  );
  return peer;
}

const syndromes = (start: number, n: number, fill = 7): RMsg => ({
  type: 'syndromes',
  start,
  syndromes: new Uint8Array(6 * n).fill(fill),
});
const cells = (start: number, n: number, fill = 7): RMsg => ({
  type: 'cells',
  start,
  cells: new Uint8Array(8 * n).fill(fill),
});

/** A refusal of units in a forced run. */
function refusal(
  name: string,
  covers: string[],
  kind: 'syndromes' | 'cells',
  frames: Uint8Array[],
  code: string,
): Case {
  return {
    name,
    covers,
    async run(ctx) {
      const peer = await forcedRun(ctx, kind);
      for (const f of frames) await peer.send(f);
      await expectFatalAfter(ctx, peer, code);
    },
  };
}

export const RECONCILE_RUN_CASES: readonly Case[] = [
  syndromeCase('reconcile/syndromes-for-one-difference', {
    from: 1_000,
    shared: 30,
    implOnly: 1,
    ownOnly: 0,
  }),
  syndromeCase('reconcile/syndromes-for-three-differences', {
    from: 1_040,
    shared: 30,
    implOnly: 1,
    ownOnly: 2,
  }),
  syndromeCase('reconcile/syndromes-for-ten-differences-with-a-deletion', {
    from: 1_080,
    shared: 40,
    implOnly: 3,
    ownOnly: 5,
    implDeletes: 1,
  }),
  {
    name: 'reconcile/syndromes-decode-with-one-check-syndrome',
    covers: ['R-SYN-4', 'R-SYN-5', 'R-RSCHED-7', 'R-RSCHED-9'],
    async run(ctx) {
      // An estimate of 0 puts checkpoints at 2, 4, 6: four keys decode at 6 (m = 5), not 4.
      const { impl, own } = await stores(ctx, { from: 1_140, shared: 10, implOnly: 2, ownOnly: 2 });
      const t = await play(ctx, impl, own, { estimate: 0 });
      assert.deepEqual(runsOf(t), ['syndromes:decoded']);
      assert.deepEqual(t.runs[0]?.plan.checkpoints, [2, 4, 6]);
    },
  },
  {
    name: 'reconcile/cells-for-a-larger-difference',
    covers: ['R-SKETCH-1', 'R-SKETCH-2', 'R-SKETCH-3', 'R-RMSG-1', 'R-RSCHED-5', ...RUN_RULES],
    async run(ctx) {
      const { impl, own } = await stores(ctx, {
        from: 1_200,
        shared: 200,
        implOnly: 50,
        ownOnly: 30,
      });
      const t = await play(ctx, impl, decodingOwn(impl, own, 80), { estimate: 80 });
      assert.deepEqual(runsOf(t), ['cells:decoded']);
      assert.deepEqual(t.runs[0]?.plan.schedule, { first: 98, chunk: 7, cap: 179, lookahead: 2 });
    },
  },
  {
    name: 'reconcile/syndromes-reach-their-cap-then-cells',
    covers: ['R-RSCHED-8', 'R-SKETCH-2', 'R-RRTT-1', 'R-RRTT-2'],
    async run(ctx) {
      // An estimate of 0 for a difference of 80: the syndromes cannot decode it.
      const { impl, own } = await stores(ctx, {
        from: 1_500,
        shared: 200,
        implOnly: 50,
        ownOnly: 30,
      });
      const t = await play(ctx, impl, decodingOwn(impl, own, 64), { estimate: 0 });
      assert.deepEqual(runsOf(t), ['syndromes:capped', 'cells:decoded']);
      assert.equal(t.runs[0]?.plan.checkpoints.length, 32, 'every checkpoint 2, 4, ..., 64');
      assert.deepEqual(
        t.runs[1]?.plan.schedule,
        { first: 79, chunk: 5, cap: 179, lookahead: 2 },
        'cells with the estimate 64',
      );
    },
  },
  {
    name: 'reconcile/late-units-are-checked-and-ignored',
    covers: ['R-RSCHED-10'],
    async run(ctx) {
      const { impl, own } = await stores(ctx, { from: 1_800, shared: 12, implOnly: 1, ownOnly: 2 });
      const t = await play(ctx, impl, own, { lateUnits: 'separate' });
      assert.deepEqual(runsOf(t), ['syndromes:decoded']);
      const r = t.runs[0];
      assert.ok(r && r.runnerSent > r.decidingCheckpoint, 'the runner’s lookahead came late');
    },
  },
  {
    name: 'reconcile/late-units-out-of-order',
    covers: ['R-RSCHED-10', 'R-RSCHED-2', 'R-RERR-3'],
    async run(ctx) {
      const { impl, own } = await stores(ctx, { from: 1_820, shared: 12, implOnly: 1, ownOnly: 2 });
      const opened = await openReconcile(ctx, own, { estimate: null });
      await reconcileWith(opened.peer, own, opened.theirs, {
        announced: opened.announced,
        impl,
        lateUnits: 'out-of-order',
      });
      await expectFatalAfter(ctx, opened.peer, 'unexpected-message');
    },
  },
  refusal(
    'reconcile/syndromes-out-of-order',
    ['R-RSCHED-2', 'R-RERR-3'],
    'syndromes',
    [frameOfR(syndromes(0, 2)), frameOfR(syndromes(3, 2))],
    'unexpected-message',
  ),
  refusal(
    'reconcile/syndromes-past-the-cap',
    ['R-RSCHED-2', 'R-RERR-1'],
    'syndromes',
    [frameOfR(syndromes(0, 65))],
    'limit-exceeded',
  ),
  refusal(
    'reconcile/cells-during-a-syndrome-run',
    ['R-RSCHED-2', 'R-RERR-3'],
    'syndromes',
    [frameOfR(cells(0, 4))],
    'unexpected-message',
  ),
  refusal(
    'reconcile/syndromes-not-6-bytes-each',
    ['R-RMSG-6', 'R-RERR-2'],
    'syndromes',
    [
      encodeCbor([
        1,
        21,
        new Map<CborKey, CborValue>([
          [0, 0],
          [1, new Uint8Array(10)],
        ]),
      ]),
    ],
    'malformed-message',
  ),
  refusal(
    'reconcile/type-22-is-unknown',
    ['R-RMSG-2', 'R-RERR-4'],
    'syndromes',
    [encodeCbor([1, 22, new Map()])],
    'unknown-message',
  ),
  refusal(
    'reconcile/syndromes-during-a-cell-run',
    ['R-RSCHED-2', 'R-RERR-3'],
    'cells',
    [frameOfR(syndromes(0, 2))],
    'unexpected-message',
  ),
  refusal(
    'reconcile/cells-out-of-order',
    ['R-RSCHED-2', 'R-RERR-3'],
    'cells',
    [frameOfR(cells(1, 4))],
    'unexpected-message',
  ),
  refusal(
    'reconcile/cells-past-the-cap',
    ['R-RSCHED-2', 'R-RERR-1'],
    'cells',
    // cap = floor((6 (4 + 1000) - 1) / 16) = 376
    [frameOfR(cells(0, 377))],
    'limit-exceeded',
  ),
];
