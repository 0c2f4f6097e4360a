/**
 * A framed link model: two {@link Link} ends joined by an imitation of a real link's
 * bandwidth, frame overhead, latency, duplex, bit errors and breakage, on a virtual clock.
 *
 * The model stands for a link whose own link layer already detects and resends damaged
 * frames (as Bluetooth LE's does): a bit error costs the airtime of a resend, never a
 * damaged frame. To let bit errors reach certsync's own framing instead, run a framing
 * layer over the byte-line model (byte-line.ts).
 */
import type { Clock } from '../clock.ts';
import { checkFrame, FrameInbox, SendQueue } from '../frame-queues.ts';
import { LinkError, type Link } from '../link.ts';
import { checkLinkParams, lineTimeMs, slotEndMs, type LinkParams } from './link-params.ts';
import { BitErrorSource } from './seeded-random.ts';

/** How one run of a model behaves, beyond the link's fixed parameters. */
export interface ModelOptions {
  /** Usually a VirtualClock; the model's time is this clock's. */
  clock: Clock;
  /** Bit error rate of the line (default 0). */
  ber?: number;
  /** Source of randomness for bit errors; required when `ber` > 0. */
  random?: () => number;
  /** The line breaks while carrying this payload byte (counted over both directions). */
  cutAtByte?: number;
  /** Bytes each end accepts from `send` ahead of the line (default 4 frames). */
  sendBufferBytes?: number;
  /** Bytes each end holds for its reader before the line waits (default 4 frames). */
  receiveBufferBytes?: number;
}

/** Counters of a model run. */
export interface ModelStats {
  /** Payload bytes delivered, both directions. */
  deliveredBytes: number;
  /** Transmissions repeated because a bit error hit them. */
  resends: number;
}

/** Two joined ends of a model link, and the controls a test or benchmark needs. */
export interface ModelLinkPair {
  a: Link;
  b: Link;
  /** Breaks the line now, as a pulled cable: both ends fail with `link-error`. */
  cut(): void;
  stats(): ModelStats;
}

type Side = 'a' | 'b';

/** The shared medium: when each direction may next transmit. */
class Medium {
  #busyUntil = { a: 0, b: 0 };
  #lastSide: Side | undefined;

  constructor(readonly params: LinkParams) {}

  /** Reserves the line for `packets` slots or `bytes` line bytes; returns [start, end]. */
  reserve(side: Side, now: number, bytes: number, packets: number): [number, number] {
    const p = this.params;
    const half = p.duplex === 'half';
    let start = half
      ? Math.max(now, this.#busyUntil.a, this.#busyUntil.b)
      : Math.max(now, this.#busyUntil[side]);
    if (half && this.#lastSide !== undefined && this.#lastSide !== side) start += p.turnaroundMs;
    const end = p.slots ? slotEndMs(p.slots, start, packets) : start + lineTimeMs(p, bytes);
    this.#busyUntil[side] = end;
    this.#lastSide = side;
    return [start, end];
  }
}

/**
 * Joins two model ends. Time passes only on `options.clock`.
 *
 * @throws RangeError for bad parameters, or `ber` > 0 without `random`
 */
export function createModelLinkPair(params: LinkParams, options: ModelOptions): ModelLinkPair {
  checkLinkParams(params);
  const ber = options.ber ?? 0;
  if (ber > 0 && !options.random) throw new RangeError('expected random when ber > 0, got none');
  const errors = new BitErrorSource(ber, options.random ?? Math.random);
  const medium = new Medium(params);
  const clock = options.clock;
  const stats: ModelStats = { deliveredBytes: 0, resends: 0 };
  let carried = 0;
  let broken = false;

  const ends = {} as Record<Side, ModelEnd>;
  const breakLine = (): void => {
    if (broken) return;
    broken = true;
    const error = new LinkError('link-error', 'the link broke: carrier lost');
    ends.a.fail(error);
    ends.b.fail(error);
  };

  /** Schedules one frame's transmission; returns when the line is free again. */
  const transmit = (from: Side, frame: Uint8Array | 'close', deliver: () => void): number => {
    const bytes = (frame === 'close' ? 0 : frame.length) + params.frameOverheadBytes;
    const s = params.slots;
    const packets = s ? Math.max(1, Math.ceil(bytes / s.payloadBytes)) : 1;
    let attempts = packets;
    if (ber > 0) {
      // A packet hit by a bit error is resent, in its next slot or as a whole frame.
      const bits = s ? s.packetBits : bytes * params.bitsPerByte;
      for (let i = 0; i < packets; i++) {
        while (errors.errorsIn(bits).length > 0) {
          attempts += s ? 1 : 0;
          stats.resends++;
          if (!s) medium.reserve(from, clock.now(), bytes, 1);
        }
      }
    }
    const [start, end] = medium.reserve(from, clock.now(), bytes, attempts);
    const payload = frame === 'close' ? 0 : frame.length;
    const cutAt = options.cutAtByte;
    if (cutAt !== undefined && carried + payload > cutAt) {
      const share = payload === 0 ? 0 : (cutAt - carried) / payload;
      clock.setTimer(breakLine, start + (end - start) * share - clock.now());
      carried = cutAt;
      return Number.POSITIVE_INFINITY;
    }
    carried += payload;
    clock.setTimer(
      () => {
        if (broken) return;
        if (frame !== 'close') stats.deliveredBytes += frame.length;
        deliver();
      },
      end + params.latencyMs - clock.now(),
    );
    return end;
  };

  const defaults = 4 * params.maxFrameSize;
  const sendBuffer = options.sendBufferBytes ?? defaults;
  const receiveBuffer = options.receiveBufferBytes ?? defaults;
  ends.a = new ModelEnd('a', params.maxFrameSize, sendBuffer, receiveBuffer, clock, transmit);
  ends.b = new ModelEnd('b', params.maxFrameSize, sendBuffer, receiveBuffer, clock, transmit);
  ends.a.peer = ends.b;
  ends.b.peer = ends.a;
  return { a: ends.a, b: ends.b, cut: breakLine, stats: () => ({ ...stats }) };
}

type Transmit = (from: Side, frame: Uint8Array | 'close', deliver: () => void) => number;

/** One end: its send queue, its inbox, and the transmitter that feeds the peer's inbox. */
class ModelEnd implements Link {
  peer!: ModelEnd;
  readonly inbox: FrameInbox;
  readonly #queue: SendQueue;
  #inFlight = 0;
  #busy = false;
  #closing = false;
  #closeSent: (() => void) | undefined;
  #closed: Promise<void> | undefined;

  constructor(
    readonly side: Side,
    readonly maxFrameSize: number,
    sendBuffer: number,
    readonly receiveBuffer: number,
    readonly clock: Clock,
    readonly transmit: Transmit,
  ) {
    this.#queue = new SendQueue(sendBuffer, () => this.pump());
    this.inbox = new FrameInbox(() => this.peer.pump());
  }

  async send(frame: Uint8Array): Promise<void> {
    const tooLarge = checkFrame(frame, this.maxFrameSize);
    if (tooLarge) throw tooLarge;
    return this.#queue.enqueue(frame.slice());
  }

  receive(): Promise<Uint8Array | null> {
    return this.inbox.receive();
  }

  close(): Promise<void> {
    if (this.#closed) return this.#closed;
    this.#closing = true;
    const error = new LinkError('link-closed', 'the link was closed here');
    this.inbox.fail(error);
    this.#queue.fail(error, false);
    this.#closed = new Promise((resolve) => (this.#closeSent = resolve));
    this.pump();
    // A peer that was waiting to flush into this end can stop now.
    this.peer.pump();
    return this.#closed;
  }

  /** The peer ended its side: nothing more can be sent to it. */
  peerClosed(): void {
    this.inbox.end();
    this.#queue.fail(new LinkError('link-closed', 'the peer closed the link'), true);
  }

  fail(error: LinkError): void {
    this.inbox.fail(error);
    this.#queue.fail(error, true);
    this.#closeSent?.();
  }

  /** Starts the next transmission when the line, the queue and the peer allow. */
  pump(): void {
    if (this.#busy || this.peer.inbox.done) {
      if (this.#closing && this.peer.inbox.done) this.#closeSent?.();
      return;
    }
    const waiting = this.peer.inbox.bytes + this.#inFlight;
    if (waiting > 0 && waiting >= this.peer.receiveBuffer) return;
    const frame = this.#queue.take();
    if (frame) {
      this.#inFlight += frame.length;
      this.#startTransmission(frame, () => {
        this.#inFlight -= frame.length;
        this.peer.inbox.push(frame);
      });
    } else if (this.#closing && this.#queue.length === 0) {
      this.#busy = true;
      this.transmit(this.side, 'close', () => {
        this.peer.peerClosed();
        this.#closeSent?.();
      });
    }
  }

  #startTransmission(frame: Uint8Array, deliver: () => void): void {
    this.#busy = true;
    const freeAt = this.transmit(this.side, frame, deliver);
    if (freeAt === Number.POSITIVE_INFINITY) return;
    this.clock.setTimer(() => {
      this.#busy = false;
      this.pump();
    }, freeAt - this.clock.now());
  }
}
