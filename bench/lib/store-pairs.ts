/**
 * The two stores of one benchmark case: n entries each, d of them differing, split over
 * both sides; with deletions, half of each side's differences are deletions of records
 * both held before (the side keeps a newer tombstone, the peer still the live version).
 */
import { BenchStore } from './bench-store.ts';
import type { CertificatePool } from './certificates.ts';

/** One benchmark case. */
export interface PairSpec {
  /** Entries per store. */
  readonly n: number;
  /** Records that differ between the two stores. */
  readonly d: number;
  /** Whether half of each side's differences are deletions. */
  readonly deletions: boolean;
}

/** A 16-byte origin whose last byte is `tag`. */
export function originOf(tag: number): Uint8Array {
  const o = new Uint8Array(16);
  o[0] = 0xbe;
  o[15] = tag;
  return o;
}

/** Entries only A holds (rounded up) and only B holds. */
export function splitDifferences(d: number): { onlyA: number; onlyB: number } {
  const onlyA = Math.ceil(d / 2);
  return { onlyA, onlyB: d - onlyA };
}

/** Pool certificates a case needs: the shared ones plus every side's new ones. */
export function poolNeeded(spec: PairSpec): number {
  return spec.n + spec.d;
}

/**
 * Builds the two stores of `spec` from `pool`.
 *
 * @throws RangeError when d > n, or the pool is too small
 */
export function buildPair(pool: CertificatePool, spec: PairSpec): [BenchStore, BenchStore] {
  const { n, d, deletions } = spec;
  if (!(Number.isInteger(n) && Number.isInteger(d) && d >= 0 && d <= n)) {
    throw new RangeError(`expected 0 <= d <= n, got n=${n} d=${d}`);
  }
  if (pool.count < poolNeeded(spec)) {
    throw new RangeError(`expected a pool of ${poolNeeded(spec)} certificates, got ${pool.count}`);
  }
  const a = new BenchStore(pool, originOf(1));
  const b = new BenchStore(pool, originOf(2));
  const { onlyA, onlyB } = splitDifferences(d);
  const delA = deletions ? Math.floor(onlyA / 2) : 0;
  const delB = deletions ? Math.floor(onlyB / 2) : 0;
  const newA = onlyA - delA;
  const newB = onlyB - delB;
  // Both stores hold n entries: the shared ones and their own new ones.
  const shared = n - Math.max(newA, newB);
  const base = originOf(9);
  for (let i = 0; i < shared; i++) {
    a.addFromPool(i, i + 1, base);
    b.addFromPool(i, i + 1, base);
  }
  let next = shared;
  for (let i = 0; i < newA; i++) a.addFromPool(next++, n + i + 1, originOf(1));
  for (let i = 0; i < newB; i++) b.addFromPool(next++, n + i + 1, originOf(2));
  // Deletions take distinct shared records: A's from the start, B's from the end.
  for (let i = 0; i < delA; i++) a.deleteEntry('cert', pool.fingerprint(i));
  for (let i = 0; i < delB; i++) b.deleteEntry('cert', pool.fingerprint(shared - 1 - i));
  return [a, b];
}
