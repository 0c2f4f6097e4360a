/**
 * The runner's reconcile model (reconcile-model.ts) gives every value of
 * spec/vectors/reconcile.json: the conformance cases judge implementations by it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  cellsOf,
  checkOf,
  digestOf,
  estimate,
  indicesBelow,
  itemHashOf,
  keyBytesOf,
  keyHex,
  keyOf,
  mix,
  peel,
  xorCells,
  type Version,
} from './reconcile-model.ts';

interface Vectors {
  items: {
    entry: {
      kind: 'cert' | 'crl';
      fingerprint: string;
      deleted: boolean;
      clock: number;
      origin: string;
    };
    itemHash: string;
    sketchKey: string;
    mix: number;
    check: number;
    firstIndices: number[];
  }[];
  stores: { items: number[]; root: string; estimator: string; digestBytes: string }[];
  estimate: number;
  sketch: { cells: number; cellsA: string; cellsB: string; decoded: boolean; difference: string[] };
}

const v = JSON.parse(
  readFileSync(new URL('../../spec/vectors/reconcile.json', import.meta.url), 'utf8'),
) as Vectors;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
const versions: Version[] = v.items.map((i) => ({
  ...i.entry,
  fingerprint: bytes(i.entry.fingerprint),
  origin: bytes(i.entry.origin),
}));
const storeVersions = (n: number): Version[] =>
  (v.stores[n]?.items ?? []).map((i) => versions[i] as Version);

test('the model gives each vector item its hash, key, mix, check and first indices', () => {
  v.items.forEach((item, i) => {
    const ver = versions[i] as Version;
    assert.equal(hex(itemHashOf(ver)), item.itemHash);
    const k = keyOf(keyBytesOf(ver));
    assert.equal(keyHex(k), item.sketchKey);
    assert.equal(mix(k.hi, k.lo), item.mix);
    assert.equal(checkOf(k), item.check);
    const last = item.firstIndices[item.firstIndices.length - 1] as number;
    assert.deepEqual(indicesBelow(k, last + 1), item.firstIndices);
  });
});

test('the model gives each vector store its root, estimator and digest bytes', () => {
  v.stores.forEach((s, n) => {
    const d = digestOf(storeVersions(n));
    assert.equal(hex(d.root), s.root);
    assert.equal(hex(d.estimator), s.estimator);
    assert.equal(hex(d.bytes), s.digestBytes);
  });
});

test('the model gives the vector estimate, cells and decoded difference', () => {
  const [a, b] = [digestOf(storeVersions(0)), digestOf(storeVersions(1))];
  assert.equal(estimate(a.estimator, b.estimator), v.estimate);
  const keys = (n: number) => storeVersions(n).map((x) => keyOf(keyBytesOf(x)));
  const cellsA = cellsOf(keys(0), v.sketch.cells);
  const cellsB = cellsOf(keys(1), v.sketch.cells);
  assert.equal(hex(cellsA), v.sketch.cellsA);
  assert.equal(hex(cellsB), v.sketch.cellsB);
  const peeled = peel(xorCells(cellsA, cellsB));
  assert.equal(peeled.decoded, v.sketch.decoded);
  assert.deepEqual(peeled.keys.map(keyHex).sort(), [...v.sketch.difference].sort());
});

test('peeling a prefix too short for the difference does not decode', () => {
  const keys = Array.from({ length: 40 }, (_, i) => ({ hi: 1000 + i, lo: 7 * i + 1 }));
  assert.equal(peel(cellsOf(keys, 5)).decoded, false);
  assert.equal(peel(cellsOf(keys, 200)).decoded, true);
});
