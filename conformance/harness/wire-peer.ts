/**
 * The runner's side of the wire: a TCP connection to the implementation's endpoint with the
 * framing of transports/tcp.ts (a 32-bit big-endian length before each frame), the hellos in
 * the clear and the handshake of spec/session.md, after which the runner sends and reads
 * protocol frames as raw bytes. What it asserts is about those bytes.
 */
import { CertsyncError, isCertsyncError } from '../../protocol/errors.ts';
import { decodeFrame, encodeMessage, type Incoming } from '../../protocol/messages/codec.ts';
import type { Message } from '../../protocol/messages/catalog.ts';
import { DEFAULT_LIMITS } from '../../protocol/wire/limits.ts';
import { connectTcpLink, listenTcpLink, type TcpLink } from '../../transports/tcp.ts';
import type { Link } from '../../transports/link.ts';
import type { RekeyBound } from '../../protocol/secure/transport.ts';
import {
  acceptSecure,
  connectSecure,
  type InitiatorIntent,
  type ResponderPairing,
  type SecureSession,
} from '../../node/keys/secure-link.ts';
import { MemoryPeerBook } from '../../node/keys/peer-book.ts';
import type { Identity } from '../../node/keys/identity.ts';

/** Limits for reading what the implementation sends: the widest version 1 allows. */
export const READ_LIMITS = DEFAULT_LIMITS;
/** The frame limit the runner announces: the largest a record carries (session.md 8). */
export const RUNNER_MAX_FRAME = 65_518;

/** Encodes a catalog message as the runner sends it. */
export function frameOf(message: Message, version = 1): Uint8Array {
  return encodeMessage(version, message, DEFAULT_LIMITS);
}

/** The runner's hello: version 1 only, no capabilities, an empty store, on-request. */
export function runnerHello(change: Partial<Extract<Message, { type: 'hello' }>> = {}) {
  const hello: Message = {
    type: 'hello',
    versions: [1, 1],
    capabilities: [],
    summary: { certificates: 0, crls: 0, digest: new Uint8Array(0) },
    maxFrame: RUNNER_MAX_FRAME,
    sync: 'on-request',
    ...change,
  };
  return hello;
}

/** Decodes a frame the implementation sent; throws an assertion-friendly error if bad. */
export function decoded(frame: Uint8Array): Incoming {
  try {
    return decodeFrame(frame, READ_LIMITS);
  } catch (error) {
    const code = isCertsyncError(error) ? error.code : 'internal';
    throw new Error(`the implementation sent a frame that does not decode (${code})`);
  }
}

/** How a connection is opened. */
export interface PeerOptions {
  readonly port: number;
  readonly identity: Identity;
  /** The implementation's identity key, as paired; absent: the runner knows no peer. */
  readonly adapterKey?: Uint8Array;
  /** The runner's hello frame as sent (default: {@link runnerHello} encoded). */
  readonly hello?: Uint8Array;
  readonly intent?: InitiatorIntent;
  /** False: bind an empty prologue, as a relay that altered a hello would make happen. */
  readonly bindHellos?: boolean;
  /** The runner's hello as bound into the prologue, when a relay changed it on the way. */
  readonly boundHello?: Uint8Array;
  /** A smaller rekey bound (spec/session.md 9); the implementation must be told the same. */
  readonly rekey?: RekeyBound;
  /** The largest frame the runner's TCP link takes and sends (default 65,535). */
  readonly linkFrame?: number;
}

/** How the runner waits as the responder for the implementation to connect. */
export interface AcceptOptions {
  readonly identity: Identity;
  /** The implementation's identity key, as paired; absent: the runner knows no peer. */
  readonly adapterKey?: Uint8Array;
  readonly hello?: Uint8Array;
  readonly pairing?: ResponderPairing;
  readonly rekey?: RekeyBound;
  /** Called with every raw frame the implementation sends before and in the handshake. */
  readonly onRawFrame?: (frame: Uint8Array) => void;
}

/** What {@link WirePeer.next} can give. */
export type NextFrame = Uint8Array | 'closed' | 'timeout';

/** An open connection to the implementation; see the module comment. */
export class WirePeer {
  readonly raw: TcpLink;
  readonly link: SecureSession;
  /** The implementation's hello frame, byte for byte. */
  readonly theirHello: Uint8Array;
  private pending: Promise<Uint8Array | null> | null = null;

  private constructor(raw: TcpLink, link: SecureSession, theirHello: Uint8Array) {
    this.raw = raw;
    this.link = link;
    this.theirHello = theirHello;
  }

  /**
   * Connects, exchanges hellos and runs the handshake as initiator.
   *
   * @throws CertsyncError when the handshake fails (its code says why)
   */
  static async open(o: PeerOptions): Promise<WirePeer> {
    const raw = await connectTcpLink(o.port, { maxFrameSize: o.linkFrame ?? 65_535 });
    try {
      const mine = o.hello ?? frameOf(runnerHello());
      await raw.send(mine);
      const theirs = await withTimeout(raw.receive(), 10_000, 'no hello from the implementation');
      if (theirs === null) throw new CertsyncError('link-closed', 'closed before its hello');
      const peers = new MemoryPeerBook();
      if (o.adapterKey) peers.add({ name: 'impl', publicKey: o.adapterKey, pairedAt: 0 });
      const secure = await withTimeout(
        connectSecure({
          link: raw,
          identity: o.identity,
          peers,
          ...(o.bindHellos === false
            ? {}
            : { hellos: { initiatorHello: o.boundHello ?? mine, responderHello: theirs } }),
          intent: o.intent ?? { kind: 'session' },
          ...(o.rekey ? { rekey: o.rekey } : {}),
        }),
        10_000,
        'the handshake did not finish',
      );
      return new WirePeer(raw, secure, theirs);
    } catch (error) {
      raw.reset();
      throw error;
    }
  }

  /**
   * Listens on 127.0.0.1, lets `connect(port)` make the implementation connect, exchanges
   * hellos and runs the handshake as responder. Resolves once both the handshake and
   * `connect` are done.
   *
   * @throws CertsyncError when the handshake fails (its code says why)
   */
  static async accept(
    o: AcceptOptions,
    connect: (port: number) => Promise<unknown>,
  ): Promise<WirePeer> {
    const listener = await listenTcpLink({ port: 0, maxFrameSize: 65_535 });
    const connected = connect(listener.port);
    connected.catch(() => undefined);
    let raw: TcpLink | undefined;
    try {
      raw = await withTimeout(listener.accept(), 10_000, 'the implementation did not connect');
      const seen = o.onRawFrame ? recording(raw, o.onRawFrame) : raw;
      const mine = o.hello ?? frameOf(runnerHello());
      await raw.send(mine);
      const theirs = await withTimeout(raw.receive(), 10_000, 'no hello from the implementation');
      if (theirs === null) throw new CertsyncError('link-closed', 'closed before its hello');
      const peers = new MemoryPeerBook();
      if (o.adapterKey) peers.add({ name: 'impl', publicKey: o.adapterKey, pairedAt: 0 });
      const secure = await withTimeout(
        acceptSecure({
          link: seen,
          identity: o.identity,
          peers,
          hellos: { initiatorHello: theirs, responderHello: mine },
          ...(o.pairing ? { pairing: o.pairing } : {}),
          ...(o.rekey ? { rekey: o.rekey } : {}),
        }),
        10_000,
        'the handshake did not finish',
      );
      await withTimeout(connected, 10_000, 'the implementation did not report its session');
      return new WirePeer(raw, secure, theirs);
    } catch (error) {
      raw?.reset();
      throw error;
    } finally {
      void listener.close().catch(() => undefined);
    }
  }

  /** Sends one frame inside the secure session. */
  send(frame: Uint8Array): Promise<void> {
    return this.link.send(frame);
  }

  /** Sends catalog messages, in order. */
  async say(...messages: Message[]): Promise<void> {
    for (const m of messages) await this.send(frameOf(m));
  }

  /** The next frame, `closed` once the link ended (cleanly or not), or `timeout`. */
  async next(ms = 5_000): Promise<NextFrame> {
    this.pending ??= this.link.receive();
    const p = this.pending;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)));
    const got = await Promise.race([p.catch(() => null), late]);
    clearTimeout(timer);
    if (got === 'timeout') return 'timeout';
    this.pending = null;
    return got === null ? 'closed' : got;
  }

  /** The next frame decoded; fails the case on `closed` or `timeout`. */
  async message(ms = 5_000): Promise<Incoming> {
    const f = await this.next(ms);
    if (typeof f === 'string')
      throw new Error(`expected a frame from the implementation, got ${f}`);
    return decoded(f);
  }

  /** Closes the session (a close record) and the link. */
  async close(): Promise<void> {
    await this.link.close().catch(() => undefined);
  }

  /** Drops the TCP connection at once, as a vanished peer would. */
  reset(): void {
    this.raw.reset();
  }
}

/** `p`, or a `timeout` CertsyncError after `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CertsyncError('timeout', what)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** `link`, with every frame it receives also given to `see`. */
function recording(link: TcpLink, see: (frame: Uint8Array) => void): Link {
  return {
    get maxFrameSize() {
      return link.maxFrameSize;
    },
    send: (frame) => link.send(frame),
    receive: async () => {
      const f = await link.receive();
      if (f) see(f);
      return f;
    },
    close: () => link.close(),
  } as Link;
}
