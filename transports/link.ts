/**
 * The contract every certsync link implements: a duplex, message-framed byte pipe.
 *
 * Rules an implementation must keep (checked by transports/compliance.ts):
 * - Frames of 0 to `maxFrameSize` bytes arrive whole and in order, or not at all: a link
 *   that breaks in the middle of a frame fails with a {@link LinkError}, never hands over a
 *   truncated frame.
 * - `send` of a frame longer than `maxFrameSize` rejects with code `frame-too-large` and
 *   sends nothing.
 * - Back-pressure: `send` resolves once the frame is accepted by the link's bounded buffer;
 *   a writer that awaits each `send` never grows memory without bound.
 * - `receive` resolves with the next frame, or with `null` once the peer closed cleanly and
 *   every frame before the close was delivered.
 * - After `close()` or a failure, pending and later `send` / `receive` calls reject with a
 *   {@link LinkError} carrying the reason's code (`link-closed` after a local close), the
 *   same code for every call at that end.
 */

/** Codes a link fails with. They match the protocol's error codes of the same names. */
export type LinkErrorCode = 'link-closed' | 'link-error' | 'frame-too-large' | 'timeout';

const BRAND = Symbol.for('certsync.link-error');

/** The one error type of the transports layer. */
export class LinkError extends Error {
  readonly code: LinkErrorCode;
  readonly [BRAND] = true;

  constructor(code: LinkErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LinkError';
    this.code = code;
  }
}

/** True for any {@link LinkError}, including one from another copy of this module. */
export function isLinkError(value: unknown): value is LinkError {
  return typeof value === 'object' && value !== null && BRAND in value;
}

/** A duplex, message-framed link between two certsync clients. */
export interface Link {
  /** Largest frame, in bytes, that `send` accepts. */
  readonly maxFrameSize: number;

  /** Queues one frame; resolves when the link accepted it (see back-pressure above). */
  send(frame: Uint8Array): Promise<void>;

  /** The next frame, or `null` after a clean close by the peer. */
  receive(): Promise<Uint8Array | null>;

  /** Closes the link; frames already accepted by `send` are still delivered when possible. */
  close(): Promise<void>;
}

/** A logger passed into transports and sessions; silent unless the caller wires one. */
export interface Logger {
  debug(message: string, ...details: unknown[]): void;
  info(message: string, ...details: unknown[]): void;
  warn(message: string, ...details: unknown[]): void;
}

/** A logger that says nothing: the default everywhere. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
};
