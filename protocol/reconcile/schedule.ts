/**
 * How many sketch cells each side sends, and when it gives up on the sketch
 * (spec/reconcile.md, "Batch schedule"). Every rule is integer arithmetic on values both
 * sides hold (the two estimators' XOR and the two entry counts), so both sides compute
 * the same batches without telling each other.
 */

/**
 * The end of the first batch of cells for an estimated difference: 7/4 of the estimate
 * plus 3, which decodes in the first batch most of the time (the sketch needs about 1.4
 * to 2 cells per difference, and the estimate is within a factor of 1.5 most of the time).
 */
export function firstBatchEnd(estimate: number): number {
  return Math.ceil((7 * estimate) / 4) + 3;
}

/** The end of the batch after one that ended at `end` and did not decode: half again. */
export function nextBatchEnd(end: number): number {
  return end + Math.ceil(end / 2);
}

/**
 * True when a sketch of `end` cells would cost at least as many bytes (8 per cell) as the
 * average of the two key lists (6 bytes per entry): both sides then send key lists.
 */
export function keyListIsCheaper(end: number, countA: number, countB: number): boolean {
  return 16 * end >= 6 * (countA + countB);
}
