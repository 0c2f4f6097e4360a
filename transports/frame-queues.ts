/**
 * The two bounded queues behind every {@link Link} implementation here: the frames a link
 * accepted for sending, and the frames it received but the reader has not taken yet.
 * Keeping these rules in one place is what makes every transport close and fail alike.
 */
import { LinkError } from './link.ts';

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: LinkError): void;
}

/**
 * Frames received and waiting for `receive()`. Bounded by the transport: it asks
 * {@link FrameInbox.bytes} before taking more from the line, and is told through
 * `onRead` when the reader made room.
 */
export class FrameInbox {
  readonly #frames: Uint8Array[] = [];
  readonly #waiters: Waiter<Uint8Array | null>[] = [];
  #bytes = 0;
  #ended = false;
  #error: LinkError | undefined;
  readonly #onRead: () => void;

  /** @param onRead called after the reader took a frame, so the transport can take more. */
  constructor(onRead: () => void = () => {}) {
    this.#onRead = onRead;
  }

  /** Bytes held and not yet read. */
  get bytes(): number {
    return this.#bytes;
  }

  /** True once ended or failed: nothing more will be pushed. */
  get done(): boolean {
    return this.#ended || this.#error !== undefined;
  }

  /** Hands a whole frame to the reader. Ignored after `end` or `fail`. */
  push(frame: Uint8Array): void {
    if (this.done) return;
    const waiter = this.#waiters.shift();
    if (waiter) {
      waiter.resolve(frame);
      queueMicrotask(this.#onRead);
    } else {
      this.#frames.push(frame);
      this.#bytes += frame.length;
    }
  }

  /** The peer closed cleanly: queued frames are still read, then `null`. */
  end(): void {
    if (this.done) return;
    this.#ended = true;
    for (const w of this.#waiters.splice(0)) w.resolve(null);
  }

  /**
   * The link failed or was closed here: queued frames are dropped, readers get `error`.
   * After a clean end only a local close (`link-closed`) counts: a transport failing once
   * the peer has said its last word takes nothing from the reader.
   */
  fail(error: LinkError): void {
    if (this.#error || (this.#ended && error.code !== 'link-closed')) return;
    this.#error = error;
    this.#frames.length = 0;
    this.#bytes = 0;
    for (const w of this.#waiters.splice(0)) w.reject(error);
  }

  /** The next frame, `null` after a clean end, or a rejection with the failure. */
  receive(): Promise<Uint8Array | null> {
    if (this.#error) return Promise.reject(this.#error);
    const frame = this.#frames.shift();
    if (frame) {
      this.#bytes -= frame.length;
      queueMicrotask(this.#onRead);
      return Promise.resolve(frame);
    }
    if (this.#ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }
}

/**
 * Frames accepted by `send()` and not yet taken by the transmitter. `send` resolves once
 * its frame fits under `capacity` bytes (a frame larger than the capacity is accepted
 * alone into an empty queue), so a writer that awaits each send stays bounded.
 */
export class SendQueue {
  readonly #frames: Uint8Array[] = [];
  readonly #waiting: { frame: Uint8Array; waiter: Waiter<void> }[] = [];
  #bytes = 0;
  #error: LinkError | undefined;
  readonly #capacity: number;
  readonly #onFrame: () => void;

  /**
   * @param capacity bytes accepted ahead of the transmitter
   * @param onFrame called when a frame becomes available to {@link SendQueue.take}
   */
  constructor(capacity: number, onFrame: () => void) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`expected capacity a positive integer, got ${capacity}`);
    }
    this.#capacity = capacity;
    this.#onFrame = onFrame;
  }

  /** Frames accepted and not yet taken. */
  get length(): number {
    return this.#frames.length;
  }

  /** The failure this queue was closed with, if any. */
  get error(): LinkError | undefined {
    return this.#error;
  }

  /** Resolves when `frame` is accepted; rejects if the queue fails first. */
  enqueue(frame: Uint8Array): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.#waiting.length === 0 && this.#fits(frame)) {
      this.#accept(frame);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      this.#waiting.push({ frame, waiter: { resolve, reject } });
    });
  }

  /** The oldest accepted frame, removed from the queue, or undefined when empty. */
  take(): Uint8Array | undefined {
    const frame = this.#frames.shift();
    if (!frame) return undefined;
    this.#bytes -= frame.length;
    while (this.#waiting.length > 0 && this.#fits(this.#waiting[0]!.frame)) {
      const next = this.#waiting.shift()!;
      this.#accept(next.frame);
      next.waiter.resolve();
    }
    return frame;
  }

  /**
   * Rejects every send not yet accepted, and later sends, with `error`. Accepted frames
   * stay for {@link SendQueue.take} unless `dropAccepted` is set.
   */
  fail(error: LinkError, dropAccepted: boolean): void {
    if (this.#error) return;
    this.#error = error;
    for (const w of this.#waiting.splice(0)) w.waiter.reject(error);
    if (dropAccepted) {
      this.#frames.length = 0;
      this.#bytes = 0;
    }
  }

  #fits(frame: Uint8Array): boolean {
    return this.#frames.length === 0 || this.#bytes + frame.length <= this.#capacity;
  }

  #accept(frame: Uint8Array): void {
    this.#frames.push(frame);
    this.#bytes += frame.length;
    queueMicrotask(this.#onFrame);
  }
}

/** Checks a frame handed to `send`: a Uint8Array no longer than `maxFrameSize`. */
export function checkFrame(frame: unknown, maxFrameSize: number): LinkError | undefined {
  if (!(frame instanceof Uint8Array)) {
    throw new TypeError(`expected frame a Uint8Array, got ${typeof frame}`);
  }
  if (frame.length > maxFrameSize) {
    return new LinkError(
      'frame-too-large',
      `frame of ${frame.length} bytes is over the link's limit of ${maxFrameSize}`,
    );
  }
  return undefined;
}
