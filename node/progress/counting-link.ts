/**
 * A {@link Link} that counts the bytes of the frames crossing it, for the progress bar and
 * the transfer summary. It changes nothing else.
 */
import type { Link } from '../../transports/link.ts';

/** Bytes counted so far. */
export interface ByteCounts {
  sent: number;
  received: number;
}

/** Wraps `inner`; `counts` grows as frames are sent and received. */
export class CountingLink implements Link {
  readonly counts: ByteCounts = { sent: 0, received: 0 };
  readonly #inner: Link;
  readonly #onChange: (() => void) | undefined;

  /** @param onChange called after every counted frame */
  constructor(inner: Link, onChange?: () => void) {
    this.#inner = inner;
    this.#onChange = onChange;
  }

  get maxFrameSize(): number {
    return this.#inner.maxFrameSize;
  }

  async send(frame: Uint8Array): Promise<void> {
    await this.#inner.send(frame);
    this.counts.sent += frame.length;
    this.#onChange?.();
  }

  async receive(): Promise<Uint8Array | null> {
    const frame = await this.#inner.receive();
    if (frame) {
      this.counts.received += frame.length;
      this.#onChange?.();
    }
    return frame;
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
