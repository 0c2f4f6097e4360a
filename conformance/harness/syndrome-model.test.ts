/**
 * The runner's models of syndromes (syndrome-model.ts) and runs (run-schedule.ts) give the
 * vectors of spec/reconcile.md 8.1 and of spec/vectors/reconcile.json (schedules, and the
 * syndromes and entries of the recorded session).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { decodeCbor, type CborValue } from '../../protocol/wire/cbor.ts';
import { DEFAULT_LIMITS } from '../../protocol/wire/limits.ts';
import { estimate, keyBytesOf, keyOf, parseDigest, type Key } from './reconcile-model.ts';
import {
  cellSchedule,
  firstRun,
  planRun,
  reachAt,
  syndromeSchedule,
  type Schedule,
} from './run-schedule.ts';
import { gfMul, powerSums, syndromeBytes } from './syndrome-model.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const key = (v: number): Key => ({ hi: Math.floor(v / 2 ** 24), lo: v % 2 ** 24 });

interface Message {
  type: number;
  payload: string;
}

interface Vectors {
  schedule: {
    estimate: number;
    countA: number;
    countB: number;
    syndromes: Schedule | null;
    cells: Schedule | null;
  }[];
  session: {
    digestA: string;
    digestB: string;
    rounds: { aToB: Message[]; bToA: Message[] }[];
  };
}
const v = JSON.parse(
  readFileSync(new URL('../../spec/vectors/reconcile.json', import.meta.url), 'utf8'),
) as Vectors;

test('the field vectors of section 8.1: x^47 · x, a product, and 2 times its inverse', () => {
  assert.equal(gfMul(2 ** 47, 2), 0x2d);
  assert.equal(gfMul(0x123456789abc, 0xfedcba987654), 0xc4b090185804);
  assert.equal(gfMul(2, 0x800000000016), 1);
  assert.equal(gfMul(0xfedcba987654, 0x123456789abc), 0xc4b090185804, 'commutes');
  assert.throws(() => gfMul(2 ** 48, 1), RangeError);
});

test('the syndrome vector of section 8.1: three keys at t = 4, big-endian, s_1 first', () => {
  const keys = [1, 0x000001000002, 0xfedcba987654].map(key);
  assert.equal(
    hex(syndromeBytes(powerSums(keys, 4))),
    'fedcbb987657531a7a549f5df0e05bdd5f28083adb23ee1c',
  );
  assert.deepEqual(powerSums([...keys, key(0), key(1)], 2), powerSums(keys.slice(1), 2));
});

test('the schedules of spec/vectors/reconcile.json', () => {
  for (const s of v.schedule) {
    assert.deepEqual(syndromeSchedule(s.estimate, s.countA, s.countB), s.syndromes);
    assert.deepEqual(cellSchedule(s.estimate, s.countA, s.countB), s.cells);
  }
});

/** The keys of the entries one side sent in the recorded session. */
function entryKeys(messages: readonly Message[]): Key[] {
  return messages
    .filter((m) => m.type === 18)
    .map((m) => {
      const p = decodeCbor(Buffer.from(m.payload, 'hex'), DEFAULT_LIMITS) as Map<number, CborValue>;
      const entry = {
        kind: p.get(0) === 1 ? ('cert' as const) : ('crl' as const),
        fingerprint: p.get(1) as Uint8Array,
        deleted: p.get(2) as boolean,
        clock: p.get(3) as number,
        origin: p.get(4) as Uint8Array,
      };
      return keyOf(keyBytesOf(entry));
    });
}

test('the recorded session: its first run, and its syndromes XOR to those of the entries', () => {
  const s = v.session;
  const [a, b] = [
    parseDigest(Buffer.from(s.digestA, 'hex')),
    parseDigest(Buffer.from(s.digestB, 'hex')),
  ];
  assert.ok(a && b);
  const run = firstRun(estimate(a.estimator, b.estimator), a.count, b.count);
  assert.equal(run?.kind, 'syndromes');
  const [first, second] = s.rounds;
  assert.ok(first && second && run);
  const units = (m: Message | undefined): Uint8Array => {
    assert.equal(m?.type, 21);
    const p = decodeCbor(Buffer.from(m.payload, 'hex'), DEFAULT_LIMITS) as Map<number, CborValue>;
    assert.equal(p.get(0), 0);
    return p.get(1) as Uint8Array;
  };
  const fromA = units(first.aToB[0]);
  const fromB = units(first.bToA[0]);
  const reach = reachAt(run.schedule, run.schedule.first);
  assert.equal(fromA.length, 6 * reach, 'the first message reaches first + lookahead · chunk');
  const difference = [...entryKeys(second.aToB), ...entryKeys(second.bToA)];
  const xor = fromA.map((x, i) => x ^ (fromB[i] as number));
  assert.equal(hex(xor), hex(syndromeBytes(powerSums(difference, reach))));
  const plan = planRun('syndromes', run.schedule, entryKeys(second.aToB), entryKeys(second.bToA));
  assert.deepEqual([plan.decoded, plan.checkpoints], [true, [run.schedule.first]]);
});

test('a run plan decodes syndromes with one check syndrome, and cells by peeling', () => {
  const s: Schedule = { first: 2, chunk: 2, cap: 64, lookahead: 1 };
  const four = [11, 22, 33, 44].map(key);
  assert.deepEqual(planRun('syndromes', s, four.slice(0, 2), four.slice(2)).checkpoints, [2, 4, 6]);
  const many = Array.from({ length: 80 }, (_, i) => key(1000 + 7919 * i));
  const capped = planRun('syndromes', s, many, []);
  assert.equal(capped.decoded, false);
  assert.equal(capped.checkpoints[capped.checkpoints.length - 1], 64);
  const cells = planRun('cells', { first: 10, chunk: 5, cap: 400, lookahead: 2 }, many, []);
  assert.ok(cells.decoded, 'eighty keys peel from a few hundred cells');
  assert.deepEqual(
    cells.keys.map((k) => k.hi * 2 ** 24 + k.lo).sort((x, y) => x - y),
    many.map((k) => k.hi * 2 ** 24 + k.lo).sort((x, y) => x - y),
  );
});
