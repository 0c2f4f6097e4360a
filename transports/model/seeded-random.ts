/**
 * Seeded randomness for link models: the same seed gives the same bit errors every run.
 */

/**
 * A pseudo-random source of numbers in [0, 1) from a 32-bit seed (the sfc32 generator,
 * seeded through splitmix32). Fast and well mixed; not for cryptography.
 *
 * @throws RangeError when `seed` is not an integer
 */
export function seededRandom(seed: number): () => number {
  if (!Number.isInteger(seed)) throw new RangeError(`expected seed an integer, got ${seed}`);
  let s = seed >>> 0;
  const split = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = 1;
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
}

/**
 * Counts down the bits until the next bit error of a line with independent errors at
 * `ber`: the gap is drawn from the geometric distribution, so a long transfer costs one
 * random draw per error, not one per bit.
 */
export class BitErrorSource {
  readonly #ber: number;
  readonly #random: () => number;
  #untilError: number;

  /** @throws RangeError when `ber` is outside [0, 1) */
  constructor(ber: number, random: () => number) {
    if (!(ber >= 0 && ber < 1)) throw new RangeError(`expected ber in [0, 1), got ${ber}`);
    this.#ber = ber;
    this.#random = random;
    this.#untilError = this.#gap();
  }

  /**
   * Passes `bits` bits over the line and returns the offsets (0-based, ascending) of the
   * bits among them that flip.
   */
  errorsIn(bits: number): number[] {
    const errors: number[] = [];
    let offset = 0;
    while (this.#untilError < bits - offset) {
      offset += this.#untilError;
      errors.push(offset);
      offset += 1;
      this.#untilError = this.#gap();
    }
    this.#untilError -= bits - offset;
    return errors;
  }

  #gap(): number {
    if (this.#ber === 0) return Number.POSITIVE_INFINITY;
    // 1 - random() lies in (0, 1], so the logarithm is finite.
    return Math.floor(Math.log(1 - this.#random()) / Math.log1p(-this.#ber));
  }
}
