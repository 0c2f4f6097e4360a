import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { EntryHead, EntryKind } from '../merge/entry.ts';
import { DigestTree, leafOf } from './digest-tree.ts';
import { ESTIMATOR_BYTES, estimateDifference, estimatorSlot, flipEstimator } from './estimator.ts';
import { itemHash, itemHashInput, keyCheck, keyNumber, mixKey, sketchKey } from './item-hash.ts';
import {
  decodeReconcileMessage,
  encodeReconcileMessage,
  encodeStoreDigest,
  type ReconcileMessage,
} from './messages.ts';
import { Reconciler } from './reconciler.ts';
import type { MemoryStore } from '../merge/memory-store.ts';
import { buildStores, type Scenario } from '../testing/store-arbitraries.ts';
import { assertSameContent } from '../testing/store-assertions.ts';
import { decodeCbor, encodeCbor, type CborKey, type CborValue } from '../wire/cbor.ts';
import { DEFAULT_LIMITS } from '../wire/limits.ts';
import { cellsToBytes, encodeCells, IndexWalk, peelCells, xorCellsInto } from './riblt.ts';
import { cellSchedule, syndromeSchedule, type RunSchedule } from './sketch-run.ts';

interface ItemVector {
  entry: { kind: EntryKind; fingerprint: string; deleted: boolean; clock: number; origin: string };
  hashInput: string;
  itemHash: string;
  sketchKey: string;
  mix: number;
  check: number;
  firstIndices: number[];
  leaf: number;
  estimatorStratum: number;
  estimatorBit: number;
}

interface Vectors {
  items: ItemVector[];
  stores: {
    name: string;
    items: number[];
    innerNodes: string[];
    root: string;
    estimator: string;
    digestBytes: string;
  }[];
  estimate: number;
  sketch: { cells: number; cellsA: string; cellsB: string; decoded: boolean; difference: string[] };
  schedule: {
    estimate: number;
    countA: number;
    countB: number;
    syndromes: RunSchedule | null;
    cells: RunSchedule | null;
  }[];
}

const vectors = JSON.parse(
  readFileSync(new URL('../../spec/vectors/reconcile.json', import.meta.url), 'utf8'),
) as Vectors;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
const heads: EntryHead[] = vectors.items.map((v) => ({
  kind: v.entry.kind,
  fingerprint: bytes(v.entry.fingerprint),
  deleted: v.entry.deleted,
  clock: v.entry.clock,
  origin: bytes(v.entry.origin),
}));
const keyOf = (h: EntryHead): number => {
  const k = sketchKey(h, itemHash(h));
  return keyNumber(k.hi, k.lo);
};

test('item hash vectors: exact input bytes, SHA-256 (checked with node:crypto), key, check, indices', () => {
  vectors.items.forEach((v, i) => {
    const h = heads[i] as EntryHead;
    assert.equal(hex(itemHashInput(h)), v.hashInput);
    const independent = createHash('sha256').update(bytes(v.hashInput)).digest().subarray(0, 16);
    assert.equal(hex(independent), v.itemHash);
    assert.equal(hex(itemHash(h)), v.itemHash);
    const k = sketchKey(h, itemHash(h));
    assert.equal(keyNumber(k.hi, k.lo).toString(16).padStart(12, '0'), v.sketchKey);
    assert.equal(mixKey(k.hi, k.lo), v.mix);
    assert.equal(keyCheck(k.hi, k.lo), v.check);
    const w = new IndexWalk(k.hi, k.lo);
    const idx = [0];
    while (idx.length < v.firstIndices.length) idx.push(w.next());
    assert.deepEqual(idx, v.firstIndices);
    assert.equal(leafOf(itemHash(h)), v.leaf);
    assert.deepEqual(estimatorSlot(itemHash(h)), {
      stratum: v.estimatorStratum,
      bit: v.estimatorBit,
    });
  });
});

test('digest vectors: inner nodes, root, estimator and hello digest bytes of two stores', () => {
  const estimators: Uint8Array[] = [];
  for (const s of vectors.stores) {
    const tree = new DigestTree();
    const est = new Uint8Array(ESTIMATOR_BYTES);
    for (const i of s.items) {
      tree.toggle(itemHash(heads[i] as EntryHead), 1);
      flipEstimator(est, itemHash(heads[i] as EntryHead));
    }
    assert.deepEqual(
      Array.from({ length: 16 }, (_, k) => hex(tree.innerNode(k))),
      s.innerNodes,
    );
    assert.equal(hex(tree.root()), s.root);
    assert.equal(hex(est), s.estimator);
    const digest = encodeStoreDigest({ root: tree.root(), count: s.items.length, estimator: est });
    assert.equal(hex(digest), s.digestBytes);
    estimators.push(est);
  }
  assert.equal(estimateDifference(estimators[0]!, estimators[1]!), vectors.estimate);
});

test('sketch vectors: cells of both stores and the peeled difference', () => {
  const [sa, sb] = vectors.stores;
  const m = vectors.sketch.cells;
  const a = encodeCells(
    sa!.items.map((i) => keyOf(heads[i]!)),
    0,
    m,
  );
  const b = encodeCells(
    sb!.items.map((i) => keyOf(heads[i]!)),
    0,
    m,
  );
  assert.equal(hex(cellsToBytes(a)), vectors.sketch.cellsA);
  assert.equal(hex(cellsToBytes(b)), vectors.sketch.cellsB);
  const r = peelCells(xorCellsInto(a, b));
  assert.equal(r.decoded, vectors.sketch.decoded);
  assert.deepEqual(
    r.keys.map((k) => k.toString(16).padStart(12, '0')).sort(),
    vectors.sketch.difference,
  );
  for (const s of vectors.schedule) {
    assert.deepEqual(syndromeSchedule(s.estimate, s.countA, s.countB), s.syndromes);
    assert.deepEqual(cellSchedule(s.estimate, s.countA, s.countB), s.cells);
  }
});

interface SessionVector {
  scenario: Scenario;
  digestA: string;
  digestB: string;
  rounds: {
    aToB: { type: number; payload: string }[];
    bToA: { type: number; payload: string }[];
  }[];
}

test('recorded session vector: both sides send exactly the recorded messages, round by round', () => {
  const s = (vectors as unknown as { session: SessionVector }).session;
  const [a, b] = buildStores(s.scenario) as [MemoryStore, MemoryStore];
  const ra = new Reconciler(a);
  const rb = new Reconciler(b);
  const da = ra.hello();
  const db = rb.hello();
  assert.equal(hex(da), s.digestA);
  assert.equal(hex(db), s.digestB);
  const wire = (m: ReconcileMessage): { type: number; payload: string } => {
    const { code, payload } = encodeReconcileMessage(m);
    return { type: code, payload: hex(encodeCbor(payload)) };
  };
  let toB = ra.begin(db);
  let toA = rb.begin(da);
  for (const round of s.rounds) {
    assert.deepEqual(toB.map(wire), round.aToB);
    assert.deepEqual(toA.map(wire), round.bToA);
    const nextA = toB.flatMap((m) => {
      const { code, payload } = encodeReconcileMessage(m);
      const decoded = decodeCbor(encodeCbor(payload), DEFAULT_LIMITS);
      return rb.receive(decodeReconcileMessage(code, decoded as ReadonlyMap<CborKey, CborValue>));
    });
    const nextB = toA.flatMap((m) => ra.receive(m));
    toA = nextA;
    toB = nextB;
  }
  assert.equal(toA.length + toB.length, 0);
  assert.ok(ra.finished && rb.finished);
  assertSameContent(a, b);
});
