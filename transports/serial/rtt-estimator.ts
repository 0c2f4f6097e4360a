/**
 * The retransmission timeout of RFC 6298: a smoothed round-trip time and its variation,
 * measured from acknowledgements, with exponential back-off after a timeout.
 */

/** Estimates how long to wait for an acknowledgement before resending. */
export class RttEstimator {
  #srtt: number | undefined;
  #rttvar = 0;
  #rto: number;
  readonly #min: number;
  readonly #max: number;

  /**
   * @param initialMs the timeout before the first measurement (RFC 6298 §2.1 says 1 s)
   * @throws RangeError unless 0 < minMs <= initialMs <= maxMs
   */
  constructor(initialMs: number, minMs: number, maxMs: number) {
    if (!(minMs > 0 && minMs <= initialMs && initialMs <= maxMs)) {
      throw new RangeError(
        `expected 0 < min <= initial <= max, got ${minMs}, ${initialMs}, ${maxMs}`,
      );
    }
    this.#rto = initialMs;
    this.#min = minMs;
    this.#max = maxMs;
  }

  /** The current timeout in ms. */
  get rto(): number {
    return this.#rto;
  }

  /** The smoothed round-trip time, or undefined before the first sample. */
  get srtt(): number | undefined {
    return this.#srtt;
  }

  /** Takes one round-trip measurement (only of a segment sent once: Karn's rule). */
  sample(rttMs: number): void {
    // RFC 6298 §2.2 and §2.3: alpha 1/8, beta 1/4, RTO = SRTT + 4 RTTVAR.
    if (this.#srtt === undefined) {
      this.#srtt = rttMs;
      this.#rttvar = rttMs / 2;
    } else {
      this.#rttvar = 0.75 * this.#rttvar + 0.25 * Math.abs(this.#srtt - rttMs);
      this.#srtt = 0.875 * this.#srtt + 0.125 * rttMs;
    }
    this.#rto = Math.min(this.#max, Math.max(this.#min, this.#srtt + 4 * this.#rttvar));
  }

  /** After a timeout: double the timeout, up to the maximum (RFC 6298 §5.5). */
  backOff(): void {
    this.#rto = Math.min(this.#max, this.#rto * 2);
  }
}
