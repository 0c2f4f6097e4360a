/**
 * A discrete-event clock: virtual time that jumps from one scheduled event to the next.
 *
 * Events fire one per turn of Node's event loop (`setImmediate`), so every promise
 * continuation and stream callback an event caused has run before time moves on. A link
 * model on this clock simulates minutes of a 9,600 bit/s line in well under a second, and
 * as long as the code under test uses no other source of time or randomness, two runs give
 * the same result to the microsecond.
 *
 * Shortcoming: the clock cannot see real I/O. Code that waits on a file or a socket while
 * events are pending sees virtual time run ahead, so keep real I/O out of a simulation.
 */
import type { Clock, Timer } from '../clock.ts';

interface Event {
  at: number;
  order: number;
  fn: () => void;
  cancelled: boolean;
}

/** A {@link Clock} whose time advances only by running its scheduled events. */
export class VirtualClock implements Clock {
  #now = 0;
  #order = 0;
  #running = false;
  readonly #heap: Event[] = [];

  /** Virtual milliseconds since the clock was made. */
  now(): number {
    return this.#now;
  }

  /** Schedules `fn` at `now() + ms`; events at equal times fire in the order set. */
  setTimer(fn: () => void, ms: number): Timer {
    if (!Number.isFinite(ms)) throw new RangeError(`expected ms a finite number, got ${ms}`);
    const event: Event = {
      at: this.#now + Math.max(0, ms),
      order: this.#order++,
      fn,
      cancelled: false,
    };
    this.#push(event);
    if (!this.#running) {
      this.#running = true;
      setImmediate(this.#step);
    }
    return { cancel: () => void (event.cancelled = true) };
  }

  /** Number of events scheduled and not cancelled (for tests of clean shutdown). */
  get pending(): number {
    return this.#heap.filter((e) => !e.cancelled).length;
  }

  readonly #step = (): void => {
    let event = this.#pop();
    while (event?.cancelled) event = this.#pop();
    if (!event) {
      this.#running = false;
      return;
    }
    this.#now = event.at;
    setImmediate(this.#step);
    event.fn();
  };

  #before(a: Event, b: Event): boolean {
    return a.at < b.at || (a.at === b.at && a.order < b.order);
  }

  #push(event: Event): void {
    const heap = this.#heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  #pop(): Event | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length === 0 || !last) return top;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && this.#before(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && this.#before(heap[r]!, heap[m]!)) m = r;
      if (m === i) break;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
    return top;
  }
}
