/**
 * The established session as a {@link Link} (spec/session.md, "Records"): each frame sent is
 * sealed into one record, each frame received is opened, and the session ends cleanly only
 * with the peer's sealed close record.
 */
import { CertsyncError, isCertsyncError } from '../../protocol/errors.ts';
import { decodeHandshakeFrame } from '../../protocol/secure/frames.ts';
import type { HandshakeMode } from '../../protocol/secure/frames.ts';
import { RECORD } from '../../protocol/secure/transport.ts';
import type { TransportCipher } from '../../protocol/secure/transport.ts';
import { LinkError } from '../../transports/link.ts';
import type { Link, Logger } from '../../transports/link.ts';
import type { PeerRecord } from './peer-book.ts';

/** An open, encrypted session with an authenticated peer. */
export interface SecureSession extends Link {
  /** The paired peer at the other end (just stored, when this session paired it). */
  readonly peer: PeerRecord;
  /** How the session was opened: `session-ik`, `session-xx`, `pair` or `pair-secret`. */
  readonly mode: HandshakeMode;
  /** The handshake's transcript hash: names this session uniquely. */
  readonly handshakeHash: Uint8Array;
  /** True when this session paired the peer. */
  readonly newlyPaired: boolean;
  /** How many times each direction's key has rotated. */
  rotations(): { send: number; receive: number };
}

/** Details of the handshake that produced a session. */
export interface SessionInfo {
  readonly mode: HandshakeMode;
  readonly handshakeHash: Uint8Array;
  readonly newlyPaired: boolean;
  readonly logger: Logger;
}

/**
 * Errors: `send` and `receive` reject with LinkError (`link-closed` after a local close,
 * `frame-too-large`, or the link's own failure) and with CertsyncError for the session's
 * failures: `decrypt-failed` (a frame altered, replayed, reordered, dropped or truncated),
 * `frame-too-large` (a frame over the bound), `link-closed` (the link ended without the peer's
 * close record, so frames may have been cut off). After any failure the link is closed and
 * every later call rejects with the same error.
 *
 * Known shortcoming: a `close()` while a `send` still waits for room on the link cannot seal
 * its close record behind that frame, so the peer sees the end as `link-closed`, not clean.
 */
export class SecureSessionLink implements SecureSession {
  readonly peer: PeerRecord;
  readonly mode: HandshakeMode;
  readonly handshakeHash: Uint8Array;
  readonly newlyPaired: boolean;
  readonly #inner: Link;
  readonly #transport: TransportCipher;
  readonly #log: Logger;
  #failure: unknown = null;
  #closing: Promise<void> | null = null;
  #peerClosed = false;
  #received = 0;
  #inFlight = 0;

  constructor(inner: Link, transport: TransportCipher, peer: PeerRecord, info: SessionInfo) {
    this.#inner = inner;
    this.#transport = transport;
    this.peer = peer;
    this.mode = info.mode;
    this.handshakeHash = info.handshakeHash;
    this.newlyPaired = info.newlyPaired;
    this.#log = info.logger;
  }

  /** The largest application frame: the link's, less a record's type byte and tag. */
  get maxFrameSize(): number {
    return this.#transport.maxBody;
  }

  rotations(): { send: number; receive: number } {
    return this.#transport.rotations;
  }

  async send(frame: Uint8Array): Promise<void> {
    if (this.#failure !== null) throw this.#failure;
    if (this.#closing !== null) throw new LinkError('link-closed', 'the session was closed');
    if (this.#peerClosed) throw new LinkError('link-closed', 'the peer closed the session');
    if (frame.length > this.maxFrameSize) {
      throw new LinkError(
        'frame-too-large',
        `expected a frame of at most ${this.maxFrameSize} bytes, got ${frame.length}`,
      );
    }
    // Sealing and handing to the link happen in one step, so counters reach the link in order.
    const sealed = this.#transport.seal(RECORD.data, frame);
    this.#inFlight++;
    try {
      await this.#inner.send(sealed);
    } finally {
      this.#inFlight--;
    }
  }

  async receive(): Promise<Uint8Array | null> {
    if (this.#failure !== null) throw this.#failure;
    if (this.#peerClosed) return null;
    if (this.#closing !== null) throw new LinkError('link-closed', 'the session was closed');
    const frame = await this.#inner.receive();
    if (frame === null) {
      throw this.#fail(
        new CertsyncError('link-closed', 'the link ended without the peer closing the session'),
      );
    }
    let record;
    try {
      record = this.#transport.open(frame);
    } catch (error) {
      throw this.#fail(this.#received === 0 ? abortOrSelf(frame, error) : error);
    }
    this.#received++;
    if (record.type === RECORD.data) return record.body;
    if (record.type === RECORD.close) {
      this.#peerClosed = true;
      return null;
    }
    throw this.#fail(new CertsyncError('unexpected-message', `record ${record.type} in a session`));
  }

  /** Seals the close record (when no send is waiting), then closes the link. Repeatable. */
  close(): Promise<void> {
    if (this.#closing === null) {
      this.#closing = (async () => {
        if (this.#failure === null && this.#inFlight === 0) {
          await this.#inner.send(this.#transport.seal(RECORD.close)).catch(() => undefined);
        }
        await this.#inner.close();
      })();
    }
    return this.#closing;
  }

  #fail(error: unknown): unknown {
    if (this.#failure === null) {
      this.#failure = error;
      const message = error instanceof Error ? error.message : String(error);
      this.#log.warn(`session with '${this.peer.name}' ended: ${message}`);
      this.#inner.close().catch(() => undefined);
    }
    return this.#failure;
  }
}

/** Before the first record, the peer may still refuse in the clear (handshake abort frame). */
function abortOrSelf(frame: Uint8Array, error: unknown): unknown {
  if (!isCertsyncError(error) || error.code !== 'decrypt-failed') return error;
  try {
    const decoded = decodeHandshakeFrame(frame);
    if (decoded.kind === 'abort') {
      return new CertsyncError(decoded.code, `the peer ended the session: ${decoded.code}`);
    }
  } catch {
    // Not an abort frame: the decryption failure stands.
  }
  return error;
}
