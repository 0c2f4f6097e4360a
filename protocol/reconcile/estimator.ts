/**
 * The difference estimator a store sends in its hello (spec/reconcile.md, "Estimator"):
 * strata of odd sketches. An item falls into stratum l with probability 2^-(l+1) (the last
 * stratum takes the rest) and flips one of that stratum's bits. The XOR of two stores'
 * estimators is the estimator of their symmetric difference, and a store keeps its own up
 * to date with one bit flip per write.
 *
 * The estimate is integer arithmetic only, from a fixed table, so both sides of a session
 * derive the same number from the same two estimators; the sketch size depends on it.
 */

/** Strata in an estimator. */
export const STRATA = 14;
/** Bits per stratum. */
export const STRATUM_BITS = 24;
/** Bytes of an estimator on the wire: the strata in order, each STRATUM_BITS/8 bytes. */
export const ESTIMATOR_BYTES = (STRATA * STRATUM_BITS) / 8;
/** A stratum with more set bits than this is saturated and not used for the estimate. */
export const USABLE_ONES = 9;

/**
 * INVERSE[z] = round(-(S/2) * ln(1 - 2z/S)) for S = STRATUM_BITS: the most likely number
 * of items behind z set bits of an odd sketch, for z up to USABLE_ONES. Written out so that no implementation
 * depends on its floating-point logarithm.
 */
export const INVERSE: readonly number[] = Object.freeze([0, 1, 2, 3, 5, 6, 8, 11, 13, 17]);

/** Where an item goes in the estimator: stratum and bit, from item-hash bytes 3..8. */
export function estimatorSlot(hash: Uint8Array): { stratum: number; bit: number } {
  const u =
    (((hash[3] as number) << 24) |
      ((hash[4] as number) << 16) |
      ((hash[5] as number) << 8) |
      (hash[6] as number)) >>>
    0;
  const stratum = Math.min(STRATA - 1, Math.clz32(u));
  const bit = (((hash[7] as number) << 8) | (hash[8] as number)) % STRATUM_BITS;
  return { stratum, bit };
}

/** Flips the item's bit in `strata` (adding and removing an item are the same operation). */
export function flipEstimator(strata: Uint8Array, hash: Uint8Array): void {
  const { stratum, bit } = estimatorSlot(hash);
  const pos = stratum * STRATUM_BITS + bit;
  strata[pos >>> 3] = (strata[pos >>> 3] as number) ^ (0x80 >>> (pos & 7));
}

/**
 * Estimates the size of the symmetric difference behind two estimators: the lowest
 * stratum j from which every stratum is usable, then 2^j times the sum of INVERSE over
 * strata j and up. 0 only when the two estimators are equal.
 *
 * @throws RangeError when either is not ESTIMATOR_BYTES long
 */
export function estimateDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== ESTIMATOR_BYTES || b.length !== ESTIMATOR_BYTES) {
    throw new RangeError(
      `expected two ${ESTIMATOR_BYTES}-byte estimators, got ${a.length} and ${b.length}`,
    );
  }
  const ones: number[] = [];
  for (let l = 0; l < STRATA; l++) {
    let z = 0;
    for (let i = 0; i < STRATUM_BITS / 8; i++) {
      const o = l * (STRATUM_BITS / 8) + i;
      let x = ((a[o] as number) ^ (b[o] as number)) & 0xff;
      while (x) {
        x &= x - 1;
        z++;
      }
    }
    ones.push(z);
  }
  let j = STRATA;
  while (j > 0 && (ones[j - 1] as number) <= USABLE_ONES) j--;
  let sum = 0;
  for (let l = j; l < STRATA; l++) sum += INVERSE[ones[l] as number] as number;
  if (j === STRATA) return 2 ** STRATA * (STRATUM_BITS / 2);
  return sum * 2 ** j;
}
