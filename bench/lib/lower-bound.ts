/**
 * The theoretical minimum a two-way reconcile needs, the yardstick of the sync benchmark.
 *
 * Discovery: to name which d of about n records differ, a side must receive at least
 * log2(C(n, d)) bits, which is about d * log2(e * n / d) bits (Stirling; exact enough for
 * d much smaller than n). Payload: every differing entry crosses once. Time: equal stores
 * need one one-way trip (0.5 round trip: each side's digest crosses the other's); unequal
 * ones at least 1.5 (digests, then what tells where they differ, then the entries).
 */

/** Bits of discovery at least, as bytes: d * log2(e * n / d) / 8; 0 when d is 0. */
export function discoveryBound(n: number, d: number): number {
  if (!(n > 0) || !(d >= 0) || d > n)
    throw new RangeError(`expected 0 <= d <= n, got n=${n} d=${d}`);
  return d === 0 ? 0 : (d * Math.log2((Math.E * n) / d)) / 8;
}

/** Round trips at least: 0.5 for equal stores, 1.5 otherwise. */
export function roundTripBound(d: number): number {
  return d === 0 ? 0.5 : 1.5;
}

/**
 * Link time at least, in ms, on a link of `capacity` bytes per second one way and round-trip
 * time `rttMs`: the round trips plus the larger direction's payload at full rate (both
 * directions' payload on a half-duplex link, which carries one at a time).
 */
export function timeBound(
  d: number,
  payloadAtoB: number,
  payloadBtoA: number,
  capacity: number,
  rttMs: number,
  duplex: 'full' | 'half',
): number {
  const bytes = duplex === 'full' ? Math.max(payloadAtoB, payloadBtoA) : payloadAtoB + payloadBtoA;
  return roundTripBound(d) * rttMs + (1000 * bytes) / capacity;
}
