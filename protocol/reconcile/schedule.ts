/**
 * How many sketch cells each side sends, and when it gives up on the sketch
 * (spec/reconcile.md, "Batch schedule"). Every rule is integer arithmetic on values both
 * sides hold (the two estimators' XOR and the two entry counts), so both sides compute
 * the same batches without telling each other.
 */

/**
 * The end of the first batch of cells for an estimated difference: twice the estimate
 * plus 3. The sketch needs about 1.4 (large differences) to 2 (ten or so) cells per
 * difference, and the estimate runs low by 15% in the median, 90% of estimates lying
 * between half the truth and 1.5 times it, so the first batch decodes in roughly two runs of three at
 * d = 100 to 1,000 and nine of ten at d = 10, at about 15.5 bytes per difference; a
 * larger factor buys fewer extra batches with more bytes (spec/reconcile.md, "Batch
 * schedule", gives the measured trade-off).
 */
export function firstBatchEnd(estimate: number): number {
  return 2 * estimate + 3;
}

/** The end of the batch after one that ended at `end` and did not decode: a quarter more. */
export function nextBatchEnd(end: number): number {
  return end + Math.ceil(end / 4);
}

/**
 * True when a sketch of `end` cells would cost at least as many bytes (8 per cell) as the
 * average of the two key lists (6 bytes per entry): both sides then send key lists.
 */
export function keyListIsCheaper(end: number, countA: number, countB: number): boolean {
  return 16 * end >= 6 * (countA + countB);
}
