/**
 * A {@link Link} whose `receive` gives up at a deadline: how a session bounds the waits the
 * protocol engine does not time itself, the peer's hello and the handshake (spec/session.md,
 * "Limitations": the client bounds the whole connection).
 *
 * A frame that arrives after a receive gave up is not lost: the next `receive` takes it. A
 * caller that gives up on the peer closes the link.
 */
import { CertsyncError } from '../../protocol/errors.ts';
import type { Link } from '../../transports/link.ts';

/** A link with a settable receive deadline; see the module comment. */
export class DeadlineLink implements Link {
  readonly maxFrameSize: number;
  readonly #inner: Link;
  #deadline: number | null = null;
  #what = '';
  /** The inner receive a timed-out call left running; the next call waits on it. */
  #pending: Promise<Uint8Array | null> | null = null;
  #frames = 0;

  constructor(inner: Link) {
    this.#inner = inner;
    this.maxFrameSize = inner.maxFrameSize;
  }

  /** Frames received so far (a peer that sent one is there, whatever the link). */
  get framesReceived(): number {
    return this.#frames;
  }

  /**
   * From now on, every `receive` fails with `timeout` once the clock passes `at` (ms since
   * 1970), naming `what` it waited for; `null` lifts the limit.
   *
   * @throws RangeError for an `at` that is not a finite number
   */
  setDeadline(at: number | null, what = 'the peer'): void {
    if (at !== null && !Number.isFinite(at)) {
      throw new RangeError(`expected a deadline in ms or null, got ${at}`);
    }
    this.#deadline = at;
    this.#what = what;
  }

  send(frame: Uint8Array): Promise<void> {
    return this.#inner.send(frame);
  }

  /**
   * The next frame, as the inner link's `receive`.
   *
   * @throws CertsyncError `timeout` when the deadline passes first; the link's own errors
   */
  async receive(): Promise<Uint8Array | null> {
    const next = (this.#pending ??= this.#inner.receive());
    const deadline = this.#deadline;
    let frame: Uint8Array | null;
    if (deadline === null) {
      frame = await next.finally(() => (this.#pending = null));
    } else {
      const expired = new CertsyncError('timeout', `${this.#what}: nothing arrived in time`);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(expired), Math.max(0, deadline - Date.now()));
      });
      try {
        frame = await Promise.race([next, timeout]);
      } catch (error) {
        // After a timeout the inner receive goes on, for the next call to take.
        if (error === expired) next.catch(() => undefined);
        else this.#pending = null;
        throw error;
      } finally {
        clearTimeout(timer);
      }
      this.#pending = null;
    }
    if (frame !== null) this.#frames++;
    return frame;
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
