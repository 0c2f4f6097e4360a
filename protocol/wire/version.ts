/**
 * Protocol version negotiation (spec/protocol.md, "Versions"): each side states the range
 * it speaks in its hello; both then use the highest version in both ranges.
 */

/** An inclusive range of protocol versions. */
export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

/** The versions this implementation speaks. */
export const SUPPORTED_VERSIONS: VersionRange = Object.freeze({ min: 1, max: 1 });

/**
 * The highest version in both ranges, or `null` when they share none (the session then
 * sends `error` with code `no-common-version` and closes).
 *
 * @throws RangeError when a range is not integers with 1 <= min <= max
 */
export function negotiateVersion(local: VersionRange, peer: VersionRange): number | null {
  for (const r of [local, peer]) {
    if (!Number.isInteger(r.min) || !Number.isInteger(r.max) || r.min < 1 || r.min > r.max) {
      throw new RangeError(`expected a version range 1 <= min <= max, got ${r.min}..${r.max}`);
    }
  }
  const best = Math.min(local.max, peer.max);
  return best >= Math.max(local.min, peer.min) ? best : null;
}
