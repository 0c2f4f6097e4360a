/**
 * A {@link Link} over a pair of unacknowledged GATT characteristics: frames laid end to end
 * in one byte stream per direction, cut into chunks that fit one ATT packet, paced by
 * credits (see gatt-service.ts for the format).
 *
 * Each chunk is filled when the radio stack is ready to take it, with whatever frames are
 * queued by then: frames sent back to back share packets, and a lone frame leaves in the
 * next chunk without waiting for company.
 *
 * The radio side is a {@link ChunkPort} supplied by the bleno or noble adapter, or by an
 * in-memory pipe in tests. This module does no I/O of its own and keeps time only through
 * the injected {@link Clock}.
 *
 * Closing is a handshake: the closing side flushes the frames it accepted, sends CLOSE,
 * and ends the connection once the peer answered with its own CLOSE (or after
 * `closeTimeoutMs`). A connection that drops without that exchange fails the link with
 * `link-error`; a frame cut short by the drop is discarded, never handed over.
 *
 * Liveness: a side that has sent nothing for `keepaliveMs` sends an empty CREDIT, and a
 * side that has heard nothing for `idleTimeoutMs` fails with `timeout`. A radio reports a
 * vanished peer through its supervision timeout, but an emulated controller never does,
 * and a peer process that hangs keeps its radio connection up: this catches both. A slow
 * reader is not a dead peer: its side keeps sending keepalives while it holds credits back.
 */
import { realClock, type Clock, type Timer } from '../clock.ts';
import { checkFrame, FrameInbox, SendQueue } from '../frame-queues.ts';
import { LinkError, silentLogger, type Link, type LinkErrorCode, type Logger } from '../link.ts';
import {
  CHUNK_VERSION,
  ChunkFormatError,
  DATA_HEADER_BYTES,
  decodeChunk,
  encodeChunk,
  FramePacker,
  Reassembler,
  type Chunk,
} from './gatt-service.ts';

/** The radio connection under a {@link CreditLink}: one chunk per ATT packet each way. */
export interface ChunkPort {
  /** Largest chunk, in bytes, one packet carries (ATT_MTU - 3). */
  readonly chunkSize: number;
  /** Sends one chunk; resolves once the radio stack took it, rejects if it cannot. */
  write(chunk: Uint8Array): Promise<void>;
  /** Ends the connection in an orderly way; resolves when it is gone. */
  end(): Promise<void>;
  /** Drops the connection at once, as a peer walking out of range would see it. */
  abort(): void;
}

/** Sizes and timing of a {@link CreditLink}. Every field has a default. */
export interface CreditLinkOptions {
  /** Largest frame either side sends (default 65536). */
  maxFrameSize?: number;
  /** Data chunks the peer may have in flight to us (default 64). */
  windowChunks?: number;
  /** Bytes `send` accepts ahead of the radio (default twice `maxFrameSize`). */
  sendBufferBytes?: number;
  /** Received bytes held for the reader before credits stop (default twice `maxFrameSize`). */
  inboxBytes?: number;
  /** Milliseconds to wait for the peer's HELLO (default 10000). */
  helloTimeoutMs?: number;
  /** Milliseconds `close` waits for the flush and the peer's CLOSE (default 10000). */
  closeTimeoutMs?: number;
  /** Milliseconds of silence after which a side sends a keepalive (default 2000). */
  keepaliveMs?: number;
  /** Milliseconds without a chunk from the peer before the link fails (default 10000). */
  idleTimeoutMs?: number;
  clock?: Clock;
  logger?: Logger;
}

type State = 'open' | 'closing' | 'closed' | 'failed';

/** A promise with its settle functions at hand (Node 20 has no Promise.withResolvers). */
function deferred(): { promise: Promise<void>; resolve(): void; reject(e: LinkError): void } {
  let resolve: () => void = () => {};
  let reject: (e: LinkError) => void = () => {};
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * A framed duplex link over a {@link ChunkPort}. The adapter feeds it with
 * {@link CreditLink.onChunk} and {@link CreditLink.onDisconnect}.
 */
export class CreditLink implements Link {
  readonly maxFrameSize: number;
  /** Resolves when the peer's HELLO arrived; rejects if the link fails first. */
  readonly ready: Promise<void>;
  /** Largest chunk this side sends: the negotiated ATT_MTU - 3 on a GATT connection. */
  readonly chunkSize: number;

  readonly #port: ChunkPort;
  readonly #window: number;
  readonly #inboxBytes: number;
  readonly #closeTimeoutMs: number;
  readonly #keepaliveMs: number;
  readonly #idleTimeoutMs: number;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #inbox: FrameInbox;
  readonly #sendQueue: SendQueue;
  readonly #reassembler: Reassembler;
  readonly #packer = new FramePacker();
  readonly #settleReady: { resolve(): void; reject(e: LinkError): void };
  readonly #closed: Promise<void>;
  readonly #settleClosed: () => void;

  #state: State = 'open';
  #peerHello = false;
  #peerClosed = false;
  #closeSent = false;
  #sendSeq = 0;
  /** Data chunks we may still send. */
  #credits = 0;
  /** Data chunks the peer may still send us. */
  #granted: number;
  /** Chunks taken in but not yet granted back. */
  #owed = 0;
  #grantPending = 0;
  #helloPending = true;
  #pumping = false;
  /** The peer closed and then the connection went away: only queued frames remain. */
  #portGone = false;
  #timer: Timer | undefined;
  #heartbeat: Timer | undefined;
  #lastHeard: number;
  #lastSent: number;
  #pingPending = false;

  /** @throws RangeError for a bad option or a port whose chunks hold no stream byte */
  constructor(port: ChunkPort, options: CreditLinkOptions = {}) {
    const positive = (name: string, v: number, max = 0xffffffff) => {
      if (!Number.isInteger(v) || v < 1 || v > max) {
        throw new RangeError(`expected ${name} an integer in 1..${max}, got ${v}`);
      }
      return v;
    };
    this.maxFrameSize = positive('maxFrameSize', options.maxFrameSize ?? 65536);
    this.#window = positive('windowChunks', options.windowChunks ?? 64, 0xffff);
    this.#inboxBytes = positive('inboxBytes', options.inboxBytes ?? 2 * this.maxFrameSize);
    const sendBuffer = positive(
      'sendBufferBytes',
      options.sendBufferBytes ?? 2 * this.maxFrameSize,
    );
    if (!Number.isInteger(port.chunkSize) || port.chunkSize <= DATA_HEADER_BYTES) {
      throw new RangeError(
        `expected port.chunkSize an integer > ${DATA_HEADER_BYTES}, got ${port.chunkSize}`,
      );
    }
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
    this.#keepaliveMs = positive('keepaliveMs', options.keepaliveMs ?? 2000);
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 10_000;
    if (!(this.#idleTimeoutMs > 2 * this.#keepaliveMs)) {
      throw new RangeError(
        `expected idleTimeoutMs > 2 * keepaliveMs (${2 * this.#keepaliveMs}), got ${this.#idleTimeoutMs}`,
      );
    }
    this.#clock = options.clock ?? realClock;
    this.#log = options.logger ?? silentLogger;
    this.#lastHeard = this.#lastSent = this.#clock.now();
    this.#port = port;
    this.chunkSize = port.chunkSize;
    this.#granted = this.#window;
    this.#inbox = new FrameInbox(() => this.#maybeGrant());
    this.#sendQueue = new SendQueue(sendBuffer, () => this.#pump());
    this.#reassembler = new Reassembler(this.maxFrameSize);

    const ready = deferred();
    this.ready = ready.promise;
    this.#settleReady = ready;
    this.ready.catch(() => {});
    const closed = deferred();
    this.#closed = closed.promise;
    this.#settleClosed = closed.resolve;

    const helloMs = options.helloTimeoutMs ?? 10_000;
    this.#timer = this.#clock.setTimer(() => {
      if (!this.#peerHello) this.#fail('timeout', `no HELLO from the peer within ${helloMs} ms`);
    }, helloMs);
    this.#heartbeat = this.#clock.setTimer(this.#beat, this.#keepaliveMs);
    this.#pump();
  }

  /** Queues one frame; resolves once accepted into the bounded send buffer. */
  send(frame: Uint8Array): Promise<void> {
    const tooLarge = checkFrame(frame, this.maxFrameSize);
    if (tooLarge) return Promise.reject(tooLarge);
    return this.#sendQueue.enqueue(frame);
  }

  /** The next frame, or `null` once the peer closed cleanly. */
  receive(): Promise<Uint8Array | null> {
    return this.#inbox.receive();
  }

  /**
   * Flushes accepted frames, says CLOSE, waits for the peer's CLOSE (at most
   * `closeTimeoutMs`), then ends the connection. Never rejects; repeating it is harmless.
   */
  close(): Promise<void> {
    if (this.#state === 'open') {
      const closed = new LinkError('link-closed', 'the link was closed here');
      this.#inbox.fail(closed);
      this.#sendQueue.fail(closed, false);
      this.#settleReady.reject(closed);
      if (this.#portGone) {
        this.#heartbeat?.cancel();
        this.#state = 'closed';
        this.#settleClosed();
        return this.#closed;
      }
      this.#state = 'closing';
      this.#timer?.cancel();
      this.#timer = this.#clock.setTimer(() => {
        this.#log.warn('ble link: peer did not confirm the close in time; dropping it');
        this.#finish();
      }, this.#closeTimeoutMs);
      if (this.#peerClosed) this.#finish();
      else this.#pump();
    }
    return this.#closed;
  }

  /** Drops the connection without the close handshake; pending calls fail with `link-error`. */
  abort(): void {
    this.#fail('link-error', 'the link was aborted here');
  }

  /** For the adapter: one chunk arrived from the peer. */
  onChunk(bytes: Uint8Array): void {
    if (this.#state === 'closed' || this.#state === 'failed') return;
    this.#lastHeard = this.#clock.now();
    try {
      const chunk = decodeChunk(bytes);
      this.#reassembler.checkSeq(chunk.seq);
      this.#take(chunk);
    } catch (error) {
      if (!(error instanceof ChunkFormatError)) throw error;
      this.#fail('link-error', `peer broke the chunk format: ${error.message}`);
    }
  }

  /** For the adapter: the connection is gone. Fails the link unless it closed cleanly. */
  onDisconnect(reason: string): void {
    if (this.#state === 'closing') {
      this.#finish();
    } else if (this.#peerClosed) {
      // The peer ended the connection after the CLOSE exchange: the reader still drains
      // what arrived, then sees the end.
      this.#portGone = true;
      this.#timer?.cancel();
      this.#heartbeat?.cancel();
    } else {
      this.#fail('link-error', `connection lost: ${reason}`);
    }
  }

  #take(chunk: Chunk): void {
    if (chunk.kind === 'hello') {
      if (this.#peerHello) throw new ChunkFormatError('a second HELLO');
      if (chunk.version !== CHUNK_VERSION) {
        throw new ChunkFormatError(`peer speaks version ${chunk.version}, not ${CHUNK_VERSION}`);
      }
      this.#peerHello = true;
      this.#credits += chunk.credits;
      if (this.#state === 'open') this.#timer?.cancel();
      this.#settleReady.resolve();
      this.#pump();
      return;
    }
    if (!this.#peerHello) throw new ChunkFormatError(`${chunk.kind} before HELLO`);
    if (this.#peerClosed) throw new ChunkFormatError(`${chunk.kind} after CLOSE`);

    switch (chunk.kind) {
      case 'credit':
        this.#credits += chunk.credits;
        this.#pump();
        return;

      case 'close':
        if (this.#reassembler.midFrame)
          throw new ChunkFormatError('CLOSE in the middle of a frame');
        this.#peerClosed = true;
        this.#inbox.end();
        this.#sendQueue.fail(new LinkError('link-closed', 'the peer closed the link'), true);
        this.#packer.drop();
        if (this.#state === 'closing' && this.#closeSent) this.#finish();
        else this.#pump();
        return;

      case 'data': {
        if (this.#granted === 0) throw new ChunkFormatError('peer sent beyond its credits');
        this.#granted--;
        const frames = this.#reassembler.push(chunk.payload);
        if (this.#state !== 'open') return;
        this.#owed++;
        for (const frame of frames) this.#inbox.push(frame);
        this.#maybeGrant();
      }
    }
  }

  /** Sends a keepalive when we were quiet, and fails the link when the peer was. */
  readonly #beat = (): void => {
    if (this.#state === 'closed' || this.#state === 'failed' || this.#portGone) return;
    const now = this.#clock.now();
    if (this.#peerHello && !this.#peerClosed && now - this.#lastHeard >= this.#idleTimeoutMs) {
      this.#fail('timeout', `nothing heard from the peer for ${now - this.#lastHeard} ms`);
      return;
    }
    if (this.#peerHello && this.#state === 'open' && now - this.#lastSent >= this.#keepaliveMs) {
      this.#pingPending = true;
      this.#pump();
    }
    this.#heartbeat = this.#clock.setTimer(this.#beat, this.#keepaliveMs);
  };

  /** Grants credits back in batches of half a window, while the reader keeps up. */
  #maybeGrant(): void {
    if (this.#state !== 'open' || this.#peerClosed) return;
    if (this.#owed < Math.ceil(this.#window / 2) || this.#inbox.bytes >= this.#inboxBytes) return;
    this.#grantPending += this.#owed;
    this.#granted += this.#owed;
    this.#owed = 0;
    this.#pump();
  }

  /** The next chunk to write, or undefined when there is nothing we may send now. */
  #next(): Chunk | undefined {
    const seq = this.#sendSeq;
    if (this.#helloPending) {
      this.#helloPending = false;
      return { kind: 'hello', seq, version: CHUNK_VERSION, credits: this.#window };
    }
    if (this.#grantPending > 0) {
      const credits = Math.min(this.#grantPending, 0xffff);
      this.#grantPending -= credits;
      return { kind: 'credit', seq, credits };
    }
    if (this.#pingPending) {
      this.#pingPending = false;
      return { kind: 'credit', seq, credits: 0 };
    }
    if (!this.#peerClosed && this.#peerHello) {
      const pending = this.#packer.midFrame || this.#sendQueue.length > 0;
      if (pending && this.#credits > 0) {
        // Filled now, from what is queued now: no waiting for more frames.
        const room = this.chunkSize - DATA_HEADER_BYTES;
        const payload = this.#packer.fill(room, () => this.#sendQueue.take());
        if (payload) {
          this.#credits--;
          return { kind: 'data', seq, payload };
        }
      }
      if (pending) return undefined;
    }
    const closing = this.#state === 'closing' || (this.#peerClosed && this.#state === 'open');
    if (closing && !this.#closeSent) {
      this.#closeSent = true;
      return { kind: 'close', seq };
    }
    return undefined;
  }

  /** Writes chunks one at a time while there is something to send; one pump runs at once. */
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    void (async () => {
      try {
        while (this.#state === 'open' || this.#state === 'closing') {
          const chunk = this.#next();
          if (!chunk) break;
          this.#sendSeq = (this.#sendSeq + 1) & 0xff;
          await this.#port.write(encodeChunk(chunk));
          this.#lastSent = this.#clock.now();
          if (chunk.kind === 'close' && this.#state === 'closing' && this.#peerClosed) {
            this.#finish();
          }
        }
      } catch (error) {
        this.#fail('link-error', 'the radio refused a chunk', error);
      } finally {
        this.#pumping = false;
      }
    })();
  }

  /** The orderly end: both CLOSEs exchanged, or the close timed out. */
  #finish(): void {
    if (this.#state === 'closed' || this.#state === 'failed') return;
    const wasClosing = this.#state === 'closing';
    this.#state = 'closed';
    this.#timer?.cancel();
    this.#heartbeat?.cancel();
    const closed = new LinkError('link-closed', 'the link is closed');
    this.#inbox.fail(closed);
    this.#sendQueue.fail(closed, true);
    this.#settleReady.reject(closed);
    if (!wasClosing) this.#settleClosed();
    this.#port.end().then(
      () => this.#settleClosed(),
      () => this.#settleClosed(),
    );
  }

  #fail(code: LinkErrorCode, message: string, cause?: unknown): void {
    if (this.#state === 'closed' || this.#state === 'failed') return;
    this.#log.warn(`ble link failed: ${message}`);
    const wasClosing = this.#state === 'closing';
    this.#state = 'failed';
    this.#timer?.cancel();
    this.#heartbeat?.cancel();
    const error = new LinkError(wasClosing ? 'link-closed' : code, message, { cause });
    this.#inbox.fail(error);
    this.#sendQueue.fail(error, true);
    this.#settleReady.reject(error);
    this.#port.abort();
    this.#settleClosed();
  }
}
