/**
 * How reconcile cases set up the two stores: the implementation's records with their
 * versions (learnt by a pull, whose items carry clock and origin), the runner's own
 * records, and the digest the runner announces in its hello, either its own or one whose
 * estimator forces the estimate a case needs (spec/reconcile.md 6, 7).
 */
import assert from 'node:assert/strict';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesOf } from '../../protocol/wire/hex.ts';
import type { Context } from './context.ts';
import type { Json } from './impl.ts';
import type { Held } from './reconcile-messages.ts';
import { digestOf, estimate, type Version } from './reconcile-model.ts';
import { receiveTransfer, RUNNER_ORIGIN } from './transfer-peer.ts';
import { decoded, frameOf, runnerHello, type WirePeer } from './wire-peer.ts';

/** Numbers `from`, `from + 1`, ..., `n` of them. */
export const range = (from: number, n: number): number[] =>
  Array.from({ length: n }, (_, i) => from + i);

/** Reads the implementation's answer to a goodbye. */
async function goodbye(peer: WirePeer): Promise<void> {
  await peer.say({ type: 'goodbye' });
  const m = await peer.message();
  assert.ok(m.kind === 'message' && m.message.type === 'goodbye', 'goodbye is answered');
}

/**
 * The records the implementation holds, with their versions: a pull of everything (items
 * carry clock and origin) and a pull of the deleted ids (their tombstones).
 */
export async function implRecords(ctx: Context, deleted: number[] = []): Promise<Held[]> {
  const peer = await ctx.open();
  await peer.say({ type: 'pull-request', id: 1, mode: 'add', filter: 'all' });
  const all = await receiveTransfer(peer);
  const out: Held[] = all.items.map((i) => {
    const der = i.der ?? new Uint8Array(0);
    const v: Version = {
      kind: 'cert',
      fingerprint: sha256(der),
      deleted: false,
      clock: i.clock,
      origin: i.origin,
    };
    return { v, der, label: i.label ?? null, pinned: i.pinned };
  });
  if (deleted.length > 0) {
    const ids = deleted.map((n) => bytesOf(ctx.certs.id(n)));
    await peer.say({ type: 'pull-request', id: 2, mode: 'add', filter: 'all', ids });
    const gone = await receiveTransfer(peer);
    for (const x of gone.tombstones) {
      out.push({
        v: { kind: 'cert', fingerprint: x.id, deleted: true, clock: x.clock, origin: x.origin },
      });
    }
  }
  await goodbye(peer);
  return out;
}

/** A certificate the runner holds in its own version. */
export function runnerCert(ctx: Context, n: number, clock = 5): Held {
  const der = ctx.certs.der(n);
  const v: Version = {
    kind: 'cert',
    fingerprint: sha256(der),
    deleted: false,
    clock,
    origin: RUNNER_ORIGIN,
  };
  return { v, der, label: null, pinned: false };
}

/** The runner's hello for a reconcile, announcing `digest`. */
export function reconcileHello(
  own: readonly Held[],
  digest: Uint8Array,
  sync: 'auto' | 'on-request' = 'auto',
) {
  const live = own.filter((h) => !h.v.deleted).length;
  const summary = { certificates: live, crls: 0, digest };
  return frameOf(runnerHello({ capabilities: [1], sync, summary }));
}

/** The implementation's digest as its hello announces it now. */
export async function implDigest(ctx: Context): Promise<Uint8Array> {
  const peer = await ctx.open();
  const h = decoded(peer.theirHello);
  assert.ok(h.kind === 'message' && h.message.type === 'hello');
  peer.reset();
  return h.message.summary.digest;
}

/**
 * The largest estimate there is (section 6): more than any sketch is worth, so both sides
 * list keys (9.2, 9.4). Cases of what follows the difference (entries, want, wide lists,
 * overflow) use it, so that they do not depend on the sketch.
 */
export const KEY_LIST_ESTIMATE = 2 ** 14 * 12;

const INVERSE = [0, 1, 2, 3, 5, 6, 8, 11, 13, 17];

/**
 * 42 estimator bytes whose XOR with any estimator gives the estimate `e` (section 6): the
 * strata below 2^k hold 10 set bits (too many to count), the others as many as make up
 * e / 2^k, the smallest k that works; for {@link KEY_LIST_ESTIMATE}, 10 bits in stratum 13.
 *
 * @throws RangeError when no such pattern exists (the estimate is not one section 6 gives)
 */
export function estimatorDifferenceFor(e: number): Uint8Array {
  if (e === KEY_LIST_ESTIMATE) {
    // Stratum 13 itself over 9 bits: the estimate of a store too different to count.
    const out = new Uint8Array(42);
    for (let pos = 24 * 13; pos < 24 * 13 + 10; pos++) {
      out[pos >>> 3] = (out[pos >>> 3] as number) | (0x80 >>> (pos & 7));
    }
    return out;
  }
  for (let k = 0; k < 14; k++) {
    if (e % 2 ** k !== 0) continue;
    const z = new Array<number>(14).fill(0);
    for (let s = 0; s < k; s++) z[s] = 10;
    let left = e / 2 ** k;
    for (let s = k; s < 14 && left > 0; s++) {
      const pick = INVERSE.filter((v) => v <= left).length - 1;
      z[s] = pick;
      left -= INVERSE[pick] as number;
    }
    if (left !== 0) continue;
    const out = new Uint8Array(42);
    z.forEach((bits, s) => {
      for (let b = 0; b < bits; b++) {
        const pos = 24 * s + b;
        out[pos >>> 3] = (out[pos >>> 3] as number) | (0x80 >>> (pos & 7));
      }
    });
    if (estimate(out, new Uint8Array(42)) === e) return out;
  }
  throw new RangeError(`expected an estimate section 6 can give, got ${e}`);
}

/**
 * The digest the runner announces for `own`: its root and count (or `count`), with an
 * estimator that differs from the implementation's so that the estimate is `e`.
 */
export function forcedDigest(
  own: readonly Held[],
  implDigestBytes: Uint8Array,
  e: number,
  count?: number,
): Uint8Array {
  const d = digestOf(own.map((h) => h.v)).bytes.slice();
  const mask = estimatorDifferenceFor(e);
  for (let i = 0; i < 42; i++)
    d[21 + i] = (implDigestBytes[21 + i] as number) ^ (mask[i] as number);
  if (count !== undefined) new DataView(d.buffer).setUint32(17, count);
  return d;
}

/** How a reconcile session is opened. */
export interface OpenOptions {
  readonly listen?: { [key: string]: Json };
  readonly sync?: 'auto' | 'on-request';
  /** The root to announce instead of the real one (a forced key collision). */
  readonly root?: Uint8Array;
  /** The estimate to force; the key-list one unless given. null: the runner's own digest. */
  readonly estimate?: number | null;
  /** The record count to announce instead of the real one. */
  readonly count?: number;
}

/**
 * Opens a session that reconciles `own` with the implementation; returns the session, the
 * implementation's digest and what the runner announced.
 */
export async function openReconcile(ctx: Context, own: readonly Held[], o: OpenOptions = {}) {
  const wanted = o.estimate === undefined ? KEY_LIST_ESTIMATE : o.estimate;
  let announced: Uint8Array;
  if (wanted === null) {
    announced = digestOf(own.map((h) => h.v)).bytes;
  } else {
    announced = forcedDigest(own, await implDigest(ctx), wanted, o.count);
    if (o.root) announced.set(o.root, 1);
  }
  const hello = reconcileHello(own, announced, o.sync ?? 'auto');
  const peer = await ctx.open({ hello }, o.listen ?? {});
  const h = decoded(peer.theirHello);
  assert.ok(h.kind === 'message' && h.message.type === 'hello');
  return { peer, theirs: h.message.summary.digest, announced };
}
