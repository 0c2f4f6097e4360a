/**
 * Time as the transports see it: a clock that reads the time and sets one-shot timers.
 *
 * Framing and retransmission layers take a {@link Clock} instead of calling `setTimeout`
 * themselves, so the same code runs on wall-clock time over a real line and on the
 * virtual time of a link model (transports/model/virtual-clock.ts), where a slow link is
 * simulated in a fraction of its real duration and gives the same result every run.
 */

/** A timer that can be cancelled; cancelling a fired or cancelled timer does nothing. */
export interface Timer {
  cancel(): void;
}

/** A source of time in milliseconds and of one-shot timers. */
export interface Clock {
  /** Milliseconds since an arbitrary origin; never decreases. */
  now(): number;

  /** Calls `fn` once, `ms` milliseconds from now (0 when `ms` is negative). */
  setTimer(fn: () => void, ms: number): Timer;
}

/** The wall clock: `performance.now()` and Node's timers. */
export const realClock: Clock = {
  now: () => performance.now(),
  setTimer(fn, ms) {
    const handle = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(handle) };
  },
};
