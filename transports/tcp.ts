/**
 * A {@link Link} over a TCP socket, each frame preceded by its length as a 32-bit
 * big-endian number. TCP already delivers bytes reliably and in order, so this layer only
 * marks frame boundaries, bounds memory and maps socket events to the link's rules.
 *
 * Meant for tests and for two clients on one machine; listeners bind to 127.0.0.1 unless
 * told otherwise.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { checkFrame, FrameInbox, SendQueue } from './frame-queues.ts';
import { LinkError, silentLogger, type Link, type Logger } from './link.ts';

/** Tuning of a TCP link. */
export interface TcpLinkOptions {
  /** Largest frame either way (default 1 MiB). A peer's longer frame fails the link. */
  maxFrameSize?: number;
  /** Bytes `send` accepts ahead of the socket (default 256 KiB). */
  sendBufferBytes?: number;
  /** Bytes of received frames held before the socket is paused (default 256 KiB). */
  receiveBufferBytes?: number;
  logger?: Logger;
}

const PREFIX = 4;

/** A framed link over a connected socket. The link owns the socket from now on. */
export class TcpLink implements Link {
  readonly maxFrameSize: number;
  readonly #socket: Socket;
  readonly #queue: SendQueue;
  readonly #inbox: FrameInbox;
  readonly #receiveBuffer: number;
  readonly #log: Logger;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #needed = PREFIX;
  #frameLength = -1;
  #closing = false;
  #done = false;
  #closed: Promise<void> | undefined;

  /** @throws RangeError for options out of range */
  constructor(socket: Socket, options: TcpLinkOptions = {}) {
    this.maxFrameSize = options.maxFrameSize ?? 1024 * 1024;
    if (!(this.maxFrameSize >= 1 && this.maxFrameSize <= 0xffffffff)) {
      throw new RangeError(`expected maxFrameSize in 1..2^32-1, got ${this.maxFrameSize}`);
    }
    this.#socket = socket;
    this.#receiveBuffer = options.receiveBufferBytes ?? 256 * 1024;
    this.#log = options.logger ?? silentLogger;
    this.#queue = new SendQueue(options.sendBufferBytes ?? 256 * 1024, () => this.#pump());
    this.#inbox = new FrameInbox(() => {
      if (this.#inbox.bytes < this.#receiveBuffer && !this.#done) socket.resume();
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('drain', () => this.#pump());
    socket.on('end', () => this.#onEnd());
    socket.on('error', (error) => {
      this.#fail(
        new LinkError('link-error', `the socket failed: ${error.message}`, { cause: error }),
      );
    });
    socket.on('close', () => this.#fail(new LinkError('link-error', 'the socket closed')));
  }

  async send(frame: Uint8Array): Promise<void> {
    const tooLarge = checkFrame(frame, this.maxFrameSize);
    if (tooLarge) throw tooLarge;
    return this.#queue.enqueue(frame.slice());
  }

  receive(): Promise<Uint8Array | null> {
    return this.#inbox.receive();
  }

  close(): Promise<void> {
    if (this.#closed) return this.#closed;
    this.#closed = new Promise((resolve) => {
      if (this.#socket.destroyed) resolve();
      else this.#socket.once('close', () => resolve());
    });
    const error = new LinkError('link-closed', 'the link was closed here');
    this.#inbox.fail(error);
    this.#queue.fail(error, false);
    this.#closing = true;
    this.#socket.resume();
    this.#pump();
    return this.#closed;
  }

  /**
   * Resets the connection at once, as a vanished peer would: for tests of failure. Once the
   * socket's sending side has shut down (the peer's end makes Node end it too), libuv
   * refuses a reset and Node then leaks the handle, which keeps the process alive and
   * polling; such a socket is destroyed plainly instead.
   */
  reset(): void {
    const s = this.#socket;
    if (s.destroyed) return;
    if (s.writableEnded || s.readyState !== 'open') s.destroy();
    else s.resetAndDestroy();
  }

  #pump(): void {
    while (!this.#socket.writableNeedDrain && !this.#socket.writableEnded) {
      const frame = this.#queue.take();
      if (!frame) break;
      const prefix = Buffer.alloc(PREFIX);
      prefix.writeUInt32BE(frame.length);
      this.#socket.write(prefix);
      this.#socket.write(frame);
    }
    if (this.#closing && this.#queue.length === 0 && !this.#socket.writableEnded) {
      this.#socket.end();
    }
  }

  #onData(chunk: Buffer): void {
    if (this.#done) return;
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    while (this.#pendingBytes >= this.#needed) {
      let bytes = this.#take(this.#needed);
      if (this.#frameLength < 0) {
        this.#frameLength = bytes.readUInt32BE(0);
        if (this.#frameLength > this.maxFrameSize) {
          const length = this.#frameLength;
          const message = `peer sent a frame of ${length} bytes, over ${this.maxFrameSize}`;
          return this.#fail(new LinkError('link-error', message), true);
        }
        this.#needed = this.#frameLength;
        if (this.#needed > 0) continue;
        // An empty frame: its prefix is all there is, and the prefix is not the frame.
        bytes = Buffer.alloc(0);
      }
      this.#inbox.push(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
      this.#frameLength = -1;
      this.#needed = PREFIX;
    }
    if (this.#inbox.bytes >= this.#receiveBuffer && !this.#closing) this.#socket.pause();
  }

  #take(n: number): Buffer {
    const all = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending);
    const out = Buffer.from(all.subarray(0, n));
    const rest = all.subarray(n);
    this.#pending = rest.length ? [rest] : [];
    this.#pendingBytes = rest.length;
    return out;
  }

  #onEnd(): void {
    if (this.#pendingBytes > 0 || this.#frameLength >= 0) {
      return this.#fail(new LinkError('link-error', 'the peer closed in the middle of a frame'));
    }
    this.#inbox.end();
    this.#queue.fail(new LinkError('link-closed', 'the peer closed the link'), true);
  }

  #fail(error: LinkError, destroy = false): void {
    if (this.#done) return;
    this.#done = true;
    this.#log.info('tcp: link ended', error.message);
    this.#inbox.fail(error);
    this.#queue.fail(error, true);
    if (destroy) this.#socket.destroy();
  }
}

/** A listening socket that hands out one {@link TcpLink} per connection. */
export interface TcpLinkListener {
  readonly port: number;
  /** The next connection, as a link. */
  accept(): Promise<TcpLink>;
  close(): Promise<void>;
}

/**
 * Listens on `host` (default 127.0.0.1) and `port` (default 0: any free port).
 *
 * @throws LinkError `link-error` when the address cannot be bound
 */
export async function listenTcpLink(
  options: TcpLinkOptions & { host?: string; port?: number } = {},
): Promise<TcpLinkListener> {
  const sockets: Socket[] = [];
  const waiters: ((socket: Socket) => void)[] = [];
  const server: Server = createServer((socket) => {
    const waiter = waiters.shift();
    if (waiter) waiter(socket);
    else sockets.push(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) =>
      reject(new LinkError('link-error', `cannot listen: ${e.message}`, { cause: e })),
    );
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    async accept() {
      const socket = sockets.shift() ?? (await new Promise<Socket>((r) => waiters.push(r)));
      return new TcpLink(socket, options);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * Connects to a {@link listenTcpLink} listener.
 *
 * @throws LinkError `link-error` when the connection fails
 */
export function connectTcpLink(
  port: number,
  options: TcpLinkOptions & { host?: string } = {},
): Promise<TcpLink> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, options.host ?? '127.0.0.1');
    socket.once('error', (e) =>
      reject(new LinkError('link-error', `cannot connect: ${e.message}`, { cause: e })),
    );
    socket.once('connect', () => resolve(new TcpLink(socket, options)));
  });
}
