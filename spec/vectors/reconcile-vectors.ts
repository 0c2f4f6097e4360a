/**
 * Builds spec/vectors/reconcile.json (the vectors of spec/reconcile.md) from the
 * implementation. The inputs (entry heads, which entries each store holds, the sketch length,
 * the recorded session's scenario) are fixed below; everything else is computed. Written by
 * spec/vectors/generate.ts; checked by protocol/reconcile/vectors.test.ts.
 */

import type { EntryHead } from '../../protocol/merge/entry.ts';
import type { MemoryStore } from '../../protocol/merge/memory-store.ts';
import { DigestTree, leafOf } from '../../protocol/reconcile/digest-tree.ts';
import {
  ESTIMATOR_BYTES,
  estimateDifference,
  estimatorSlot,
  flipEstimator,
} from '../../protocol/reconcile/estimator.ts';
import {
  itemHash,
  itemHashInput,
  keyCheck,
  keyNumber,
  mixKey,
  sketchKey,
} from '../../protocol/reconcile/item-hash.ts';
import {
  encodeReconcileMessage,
  encodeStoreDigest,
  type ReconcileMessage,
} from '../../protocol/reconcile/messages.ts';
import { Reconciler } from '../../protocol/reconcile/reconciler.ts';
import {
  cellsToBytes,
  encodeCells,
  IndexWalk,
  peelCells,
  xorCellsInto,
} from '../../protocol/reconcile/riblt.ts';
import { cellSchedule, syndromeSchedule } from '../../protocol/reconcile/sketch-run.ts';
import { buildStores, type Scenario } from '../../protocol/testing/store-arbitraries.ts';
import { encodeCbor } from '../../protocol/wire/cbor.ts';
import { hexOf } from '../../protocol/wire/hex.ts';

const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));

/** Five entry versions: live certificates, a tombstone, a CRL. */
const HEADS: readonly EntryHead[] = [
  {
    kind: 'cert',
    fingerprint: bytes('f5fff1c17bbff9c2938aaf89254c14ab8aeddd43de09b5bb9f2135eb19146841'),
    deleted: false,
    clock: 1,
    origin: bytes('a0000000000000000000000000000001'),
  },
  {
    kind: 'cert',
    fingerprint: bytes('0652be11ba539361667e3c6fe4bd2c2c9b8be30208cf55156f997f3a2733d77f'),
    deleted: false,
    clock: 7,
    origin: bytes('a0000000000000000000000000000002'),
  },
  {
    kind: 'crl',
    fingerprint: bytes('dd2a67c6b1ff5da58c1158caf38233aa821de538e4bec78d36fe01dc1d2f7e63'),
    deleted: false,
    clock: 300,
    origin: bytes('a0000000000000000000000000000001'),
  },
  {
    kind: 'cert',
    fingerprint: bytes('f5fff1c17bbff9c2938aaf89254c14ab8aeddd43de09b5bb9f2135eb19146841'),
    deleted: true,
    clock: 5000000000,
    origin: bytes('a0000000000000000000000000000002'),
  },
  {
    kind: 'cert',
    fingerprint: bytes('0affc5a87fa143bf7d07c10aff61633eea6abedb4061db8f36a151888587f655'),
    deleted: false,
    clock: 42,
    origin: bytes('a0000000000000000000000000000003'),
  },
];

const STORES = [
  { name: 'A', items: [0, 1, 2] },
  { name: 'B', items: [1, 2, 3, 4] },
];

const SKETCH_CELLS = 8;

/** Estimates and store sizes whose stream schedules are recorded. */
const SCHEDULES = [
  [1, 1_000, 1_000],
  [10, 1_000, 1_000],
  [100, 100_000, 100_000],
  [1_000, 100_000, 99_000],
  [1_000, 1_500, 1_500],
] as const;

/** The recorded session: twenty shared imports, then each side's own changes. */
const SESSION: Scenario = {
  shared: [0, 1, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22].map((item) => ({
    op: 'import',
    item,
  })),
  own: [
    [
      { op: 'import', item: 2 },
      { op: 'delete', item: 1 },
    ],
    [
      { op: 'import', item: 3 },
      { op: 'label', item: 0, label: 'work' },
    ],
  ],
  shapes: [
    { capacity: null, policy: 'lru' },
    { capacity: null, policy: 'lru' },
  ],
};

const keyOf = (h: EntryHead): number => {
  const k = sketchKey(h, itemHash(h));
  return keyNumber(k.hi, k.lo);
};

const keyHex = (k: number): string => k.toString(16).padStart(12, '0');

function itemVectors() {
  return HEADS.map((h) => {
    const hash = itemHash(h);
    const k = sketchKey(h, hash);
    const walk = new IndexWalk(k.hi, k.lo);
    const firstIndices = [0];
    while (firstIndices.length < 8) firstIndices.push(walk.next());
    const slot = estimatorSlot(hash);
    return {
      entry: {
        kind: h.kind,
        fingerprint: hexOf(h.fingerprint),
        deleted: h.deleted,
        clock: h.clock,
        origin: hexOf(h.origin),
      },
      hashInput: hexOf(itemHashInput(h)),
      itemHash: hexOf(hash),
      sketchKey: keyHex(keyNumber(k.hi, k.lo)),
      mix: mixKey(k.hi, k.lo),
      check: keyCheck(k.hi, k.lo),
      firstIndices,
      leaf: leafOf(hash),
      estimatorStratum: slot.stratum,
      estimatorBit: slot.bit,
    };
  });
}

function storeVectors() {
  const estimators: Uint8Array[] = [];
  const stores = STORES.map((s) => {
    const tree = new DigestTree();
    const est = new Uint8Array(ESTIMATOR_BYTES);
    for (const i of s.items) {
      const hash = itemHash(HEADS[i] as EntryHead);
      tree.toggle(hash, 1);
      flipEstimator(est, hash);
    }
    estimators.push(est);
    return {
      name: s.name,
      items: s.items,
      innerNodes: Array.from({ length: 16 }, (_, k) => hexOf(tree.innerNode(k))),
      root: hexOf(tree.root()),
      estimator: hexOf(est),
      digestBytes: hexOf(
        encodeStoreDigest({ root: tree.root(), count: s.items.length, estimator: est }),
      ),
    };
  });
  return { stores, estimate: estimateDifference(estimators[0]!, estimators[1]!) };
}

function sketchVector() {
  const [a, b] = STORES.map((s) =>
    encodeCells(
      s.items.map((i) => keyOf(HEADS[i] as EntryHead)),
      0,
      SKETCH_CELLS,
    ),
  );
  const cellsA = hexOf(cellsToBytes(a!));
  const cellsB = hexOf(cellsToBytes(b!));
  const r = peelCells(xorCellsInto(a!, b!));
  return {
    cells: SKETCH_CELLS,
    cellsA,
    cellsB,
    decoded: r.decoded,
    difference: r.keys.map(keyHex).sort(),
  };
}

function scheduleVectors() {
  return SCHEDULES.map(([estimate, countA, countB]) => ({
    estimate,
    countA,
    countB,
    syndromes: syndromeSchedule(estimate, countA, countB),
    cells: cellSchedule(estimate, countA, countB),
  }));
}

/** Both sides' messages, round by round, of the session scenario (see the file's `about`). */
function sessionVector() {
  const [a, b] = buildStores(SESSION) as [MemoryStore, MemoryStore];
  const ra = new Reconciler(a);
  const rb = new Reconciler(b);
  const digestA = ra.hello();
  const digestB = rb.hello();
  const wire = (m: ReconcileMessage) => {
    const { code, payload } = encodeReconcileMessage(m);
    return { type: code, payload: hexOf(encodeCbor(payload)) };
  };
  const rounds: { aToB: ReturnType<typeof wire>[]; bToA: ReturnType<typeof wire>[] }[] = [];
  let toB = ra.begin(digestB);
  let toA = rb.begin(digestA);
  while (toA.length + toB.length > 0) {
    rounds.push({ aToB: toB.map(wire), bToA: toA.map(wire) });
    const nextA = toB.flatMap((m) => rb.receive(m));
    const nextB = toA.flatMap((m) => ra.receive(m));
    toA = nextA;
    toB = nextB;
  }
  return {
    about:
      'A whole reconcile between two stores built from protocol/testing/store-arbitraries.ts ' +
      '(universe items by index, origins c0..00 and c0..01, shared history from origin ' +
      "c0..ff). Rounds: what each side sends after reading all of the other's previous " +
      "round. Payloads are the CBOR of each message map; the envelope is spec/protocol.md's.",
    scenario: SESSION,
    digestA: hexOf(digestA),
    digestB: hexOf(digestB),
    rounds,
  };
}

/** The whole file. */
export function reconcileVectors(): Record<string, unknown> {
  return {
    about:
      'Test vectors of spec/reconcile.md. Every byte string is lower-case hex. Written by ' +
      'spec/vectors/generate.ts, checked by protocol/reconcile/vectors.test.ts.',
    items: itemVectors(),
    ...storeVectors(),
    sketch: sketchVector(),
    schedule: scheduleVectors(),
    session: sessionVector(),
  };
}
