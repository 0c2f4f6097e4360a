/**
 * A framed link model: two {@link Link} ends joined by an imitation of a real link's
 * bandwidth, frame overhead, latency, duplex, bit errors and breakage, on a virtual clock.
 *
 * The model stands for a link whose own link layer already detects and resends damaged
 * frames (as Bluetooth LE's does): a bit error costs the airtime of a resend, never a
 * damaged frame. To let bit errors reach certsync's own framing instead, run a framing
 * layer over the byte-line model (byte-line.ts).
 *
 * On a slot schedule each frame takes packets of its own, or, with `packing: 'stream'`
 * (link-params.ts), the frames of a direction share packets as certsync's BLE chunks do:
 * each packet is filled when the line is free for it, with the rest of the frame on the
 * line and the frames queued at that moment.
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
  /** Packets sent in a slot schedule, both directions, resends included (0 without one). */
  packets: number;
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

/** One use of the line: a frame, a close, or (packing by stream) packets of the stream. */
interface Transmission {
  /** Frame bytes it puts on the line, counted towards `cutAtByte`. */
  payload: number;
  /** Bytes on the line, overhead included: its airtime without a slot schedule. */
  lineBytes: number;
  /** Packets it takes in a slot schedule. */
  packets: number;
  /** Frame bytes it hands over at its end, counted in the stats. */
  delivers: number;
}

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
  const stats: ModelStats = { deliveredBytes: 0, resends: 0, packets: 0 };
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

  /** Schedules one transmission; returns when the line is free again. */
  const transmit = (from: Side, t: Transmission, deliver: () => void): number => {
    const s = params.slots;
    let attempts = t.packets;
    if (ber > 0) {
      // A packet hit by a bit error is resent, in its next slot or as a whole frame.
      const bits = s ? s.packetBits : t.lineBytes * params.bitsPerByte;
      for (let i = 0; i < t.packets; i++) {
        while (errors.errorsIn(bits).length > 0) {
          attempts += s ? 1 : 0;
          stats.resends++;
          if (!s) medium.reserve(from, clock.now(), t.lineBytes, 1);
        }
      }
    }
    if (s) stats.packets += attempts;
    const [start, end] = medium.reserve(from, clock.now(), t.lineBytes, attempts);
    const cutAt = options.cutAtByte;
    if (cutAt !== undefined && carried + t.payload > cutAt) {
      const share = t.payload === 0 ? 0 : (cutAt - carried) / t.payload;
      clock.setTimer(breakLine, start + (end - start) * share - clock.now());
      carried = cutAt;
      return Number.POSITIVE_INFINITY;
    }
    carried += t.payload;
    clock.setTimer(
      () => {
        if (broken) return;
        stats.deliveredBytes += t.delivers;
        deliver();
      },
      end + params.latencyMs - clock.now(),
    );
    return end;
  };

  const defaults = 4 * params.maxFrameSize;
  const sendBuffer = options.sendBufferBytes ?? defaults;
  const receiveBuffer = options.receiveBufferBytes ?? defaults;
  const make = (side: Side) =>
    new ModelEnd(side, params, sendBuffer, receiveBuffer, clock, transmit);
  ends.a = make('a');
  ends.b = make('b');
  ends.a.peer = ends.b;
  ends.b.peer = ends.a;
  return { a: ends.a, b: ends.b, cut: breakLine, stats: () => ({ ...stats }) };
}

type Transmit = (from: Side, t: Transmission, deliver: () => void) => number;

/** One end: its send queue, its inbox, and the transmitter that feeds the peer's inbox. */
class ModelEnd implements Link {
  peer!: ModelEnd;
  readonly maxFrameSize: number;
  readonly inbox: FrameInbox;
  readonly #queue: SendQueue;
  readonly #overhead: number;
  /** Bytes per packet in a slot schedule; undefined without one. */
  readonly #packetBytes: number | undefined;
  /** Bytes per packet when frames are packed into a stream; undefined otherwise. */
  readonly #streamPacket: number | undefined;
  /** Packing by stream: the frame whose bytes are partly on the line, and how many. */
  #current: Uint8Array | undefined;
  #currentSent = 0;
  #inFlight = 0;
  #busy = false;
  #closing = false;
  #closeSent: (() => void) | undefined;
  #closed: Promise<void> | undefined;

  constructor(
    readonly side: Side,
    params: LinkParams,
    sendBuffer: number,
    readonly receiveBuffer: number,
    readonly clock: Clock,
    readonly transmit: Transmit,
  ) {
    this.maxFrameSize = params.maxFrameSize;
    this.#overhead = params.frameOverheadBytes;
    const s = params.slots;
    this.#streamPacket = s?.packing === 'stream' ? s.payloadBytes : undefined;
    this.#packetBytes = s?.payloadBytes;
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
    const stream = this.#streamPacket;
    if (stream !== undefined) {
      if (!this.#current) {
        this.#current = this.#takeFrame();
        this.#currentSent = 0;
      }
      if (this.#current) return this.#sendStream(stream);
    }
    const frame = stream === undefined ? this.#takeFrame() : undefined;
    if (frame) {
      const lineBytes = frame.length + this.#overhead;
      const packets = this.#packetsFor(lineBytes);
      const t = { payload: frame.length, lineBytes, packets, delivers: frame.length };
      this.#startTransmission(t, () => this.#deliver(frame));
    } else if (this.#closing && this.#queue.length === 0) {
      this.#busy = true;
      const lineBytes = this.#overhead;
      const t = { payload: 0, lineBytes, packets: this.#packetsFor(lineBytes), delivers: 0 };
      this.transmit(this.side, t, () => {
        this.peer.peerClosed();
        this.#closeSent?.();
      });
    }
  }

  /** The next frame to send, unless the peer's receive buffer is full. */
  #takeFrame(): Uint8Array | undefined {
    const waiting = this.peer.inbox.bytes + this.#inFlight;
    if (waiting > 0 && waiting >= this.peer.receiveBuffer) return undefined;
    const frame = this.#queue.take();
    if (frame) this.#inFlight += frame.length;
    return frame;
  }

  /** Packets a frame of `lineBytes` takes when it has packets of its own. */
  #packetsFor(lineBytes: number): number {
    const p = this.#packetBytes;
    return p === undefined ? 1 : Math.max(1, Math.ceil(lineBytes / p));
  }

  #deliver(frame: Uint8Array): void {
    this.#inFlight -= frame.length;
    this.peer.inbox.push(frame);
  }

  /**
   * Packing by stream: sends the packets that carry only the current frame, all at once;
   * or, once what is left of it fits one packet, that packet topped up with the frames
   * queued now (the last of which may only start in it).
   */
  #sendStream(packetBytes: number): void {
    const frame = this.#current!;
    const size = frame.length + this.#overhead;
    const left = size - this.#currentSent;
    // Frame bytes in stream bytes [from, to) of a frame: its overhead comes first.
    const body = (f: Uint8Array, from: number, to: number) =>
      Math.max(0, Math.min(to, f.length + this.#overhead) - Math.max(from, this.#overhead));
    if (left > packetBytes) {
      const packets = Math.floor(left / packetBytes);
      const from = this.#currentSent;
      const to = from + packets * packetBytes;
      const ends = to === size;
      this.#currentSent = to;
      if (ends) this.#current = undefined;
      const t = {
        payload: body(frame, from, to),
        lineBytes: to - from,
        packets,
        delivers: ends ? frame.length : 0,
      };
      this.#startTransmission(t, () => {
        if (ends) this.#deliver(frame);
      });
      return;
    }
    const done = [frame];
    let payload = body(frame, this.#currentSent, size);
    let room = packetBytes - left;
    this.#current = undefined;
    while (room > 0) {
      const next = this.#takeFrame();
      if (!next) break;
      const nextSize = next.length + this.#overhead;
      if (nextSize <= room) {
        done.push(next);
        payload += next.length;
        room -= nextSize;
      } else {
        this.#current = next;
        this.#currentSent = room;
        payload += body(next, 0, room);
        room = 0;
      }
    }
    const delivers = done.reduce((sum, f) => sum + f.length, 0);
    const t = { payload, lineBytes: packetBytes - room, packets: 1, delivers };
    this.#startTransmission(t, () => done.forEach((f) => this.#deliver(f)));
  }

  #startTransmission(t: Transmission, deliver: () => void): void {
    this.#busy = true;
    const freeAt = this.transmit(this.side, t, deliver);
    if (freeAt === Number.POSITIVE_INFINITY) return;
    this.clock.setTimer(() => {
      this.#busy = false;
      this.pump();
    }, freeAt - this.clock.now());
  }
}
