/**
 * A reliable, framed {@link Link} over any byte stream: a serial port, a pty, or the
 * byte-line model.
 *
 * Link frames are cut into segments (serial-frame.ts), each with a sequence number and a
 * CRC-32. The receiver acknowledges cumulatively and selectively (a 32-segment bitmap) and
 * advertises how many segments it can take, so a reader that stops reading stops the
 * writer. The sender keeps a window of unacknowledged segments and resends one when its
 * retransmission timer runs out (RFC 6298's estimator, with Karn's rule) or when a
 * selective acknowledgement shows a later segment arrived without it.
 *
 * Both ends send a keep-alive acknowledgement when idle, so a silent line is a dead line:
 * after `deadPeerMs` without a valid frame the link fails with `timeout`.
 *
 * Shortcoming: there is no connection handshake. Both ends start at sequence 0, so a peer
 * that restarts in the middle of a session is not recognised; its frames fall outside the
 * window until the old session times out.
 */
import type { Duplex } from 'node:stream';
import { realClock, type Clock, type Timer } from '../clock.ts';
import { checkFrame, FrameInbox, SendQueue } from '../frame-queues.ts';
import { LinkError, silentLogger, type Link, type Logger } from '../link.ts';
import {
  encodeSerialFrame,
  MAX_SEGMENT_BYTES,
  SerialFrameDecoder,
  type AckFrame,
  type DataFrame,
} from './serial-frame.ts';
import { RttEstimator } from './rtt-estimator.ts';

/** Tuning of a serial link; both ends should use the same `segmentBytes` and `window`. */
export interface SerialLinkOptions {
  /** Largest link frame (default 65536). */
  maxFrameSize?: number;
  /** Bytes per segment on the line (default 1024, at most 4096). */
  segmentBytes?: number;
  /** Segments in flight, 1 to 32 (default 16). */
  window?: number;
  /** Bytes `send` accepts ahead of the line (default 64 KiB). */
  sendBufferBytes?: number;
  /** Bytes of received frames held for the reader (default 64 KiB). */
  receiveBufferBytes?: number;
  /** Retransmission timeout before the first round trip is measured (default 1000). */
  initialRtoMs?: number;
  /** Bounds of the retransmission timeout (defaults 50 and 10000). */
  minRtoMs?: number;
  maxRtoMs?: number;
  /** Each end sends an acknowledgement-only frame at least this often (default 1000). */
  keepaliveMs?: number;
  /** Silence after which the link fails with `timeout` (default 10000). */
  deadPeerMs?: number;
  /** How long a closed end keeps acknowledging a peer that has not closed yet. */
  lingerMs?: number;
  clock?: Clock;
  logger?: Logger;
}

/** Counters of one serial link. */
export interface SerialLinkStats {
  segmentsSent: number;
  retransmissions: number;
  /** Frames dropped for a bad CRC, bad COBS or a bad length. */
  badFrames: number;
  duplicates: number;
  srttMs: number;
}

interface Segment {
  seq: number;
  payload: Uint8Array;
  end: boolean;
  fin: boolean;
  sentAt: number;
  sends: number;
  sacked: boolean;
  queued: boolean;
}

interface Received {
  payload: Uint8Array;
  end: boolean;
  fin: boolean;
}

/** Maps a 16-bit wire number to the counter value nearest to `near`. */
function unwrap(wire: number, near: number): number {
  let d = (wire - near) & 0xffff;
  if (d >= 0x8000) d -= 0x10000;
  return near + d;
}

/** The error listener a finished link leaves on a stream that has no other. */
const IGNORE_ERROR = (): void => undefined;

/** A {@link Link} over a byte stream; see the module comment for the protocol. */
export class SerialLink implements Link {
  readonly maxFrameSize: number;
  readonly #stream: Duplex;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #o: Required<Omit<SerialLinkOptions, 'clock' | 'logger'>>;
  readonly #decoder = new SerialFrameDecoder();
  readonly #queue: SendQueue;
  readonly #inbox: FrameInbox;
  readonly #stats: SerialLinkStats = {
    segmentsSent: 0,
    retransmissions: 0,
    badFrames: 0,
    duplicates: 0,
    srttMs: 0,
  };

  // Sending side.
  #sndUna = 0;
  #sndNext = 0;
  readonly #unacked = new Map<number, Segment>();
  readonly #resend: Segment[] = [];
  #peerLimit = 1;
  #current: { frame: Uint8Array; offset: number } | undefined;
  #finSeq: number | undefined;
  readonly #rtt: RttEstimator;
  #rtoTimer: Timer | undefined;

  // Receiving side.
  #rcvNext = 0;
  readonly #ooo = new Map<number, Received>();
  #partial: Uint8Array[] = [];
  #partialBytes = 0;
  #ackPending = false;
  #advertised = 0;
  #peerFin = false;

  // Life cycle.
  #lastHeard: number;
  /** When the last acknowledgement-only frame went out. */
  #lastAck: number;
  #ackForced = false;
  #tick: Timer | undefined;
  #closing = false;
  #finished = false;
  #closeDone: (() => void) | undefined;
  #closed: Promise<void> | undefined;
  #lingerUntil = Number.POSITIVE_INFINITY;

  /**
   * Starts the link on `stream` at once. The stream stays the caller's: the link never
   * ends or destroys it, and stops reading it after close or failure.
   *
   * @throws RangeError for options out of range
   */
  constructor(stream: Duplex, options: SerialLinkOptions = {}) {
    this.#o = {
      maxFrameSize: options.maxFrameSize ?? 65536,
      segmentBytes: options.segmentBytes ?? 1024,
      window: options.window ?? 16,
      sendBufferBytes: options.sendBufferBytes ?? 65536,
      receiveBufferBytes: options.receiveBufferBytes ?? 65536,
      initialRtoMs: options.initialRtoMs ?? 1000,
      minRtoMs: options.minRtoMs ?? 50,
      maxRtoMs: options.maxRtoMs ?? 10_000,
      keepaliveMs: options.keepaliveMs ?? 1000,
      deadPeerMs: options.deadPeerMs ?? 10_000,
      lingerMs: options.lingerMs ?? 2000,
    };
    const o = this.#o;
    if (!(o.segmentBytes >= 1 && o.segmentBytes <= MAX_SEGMENT_BYTES)) {
      throw new RangeError(
        `expected segmentBytes in 1..${MAX_SEGMENT_BYTES}, got ${o.segmentBytes}`,
      );
    }
    if (!(Number.isInteger(o.window) && o.window >= 1 && o.window <= 32)) {
      throw new RangeError(`expected window in 1..32, got ${o.window}`);
    }
    if (!(o.maxFrameSize >= 1))
      throw new RangeError(`expected maxFrameSize >= 1, got ${o.maxFrameSize}`);
    this.maxFrameSize = o.maxFrameSize;
    this.#stream = stream;
    this.#clock = options.clock ?? realClock;
    this.#log = options.logger ?? silentLogger;
    this.#rtt = new RttEstimator(o.initialRtoMs, o.minRtoMs, o.maxRtoMs);
    this.#queue = new SendQueue(o.sendBufferBytes, () => this.#pump());
    this.#inbox = new FrameInbox(() => this.#readerTook());
    this.#lastHeard = this.#lastAck = this.#clock.now();
    this.#advertised = this.#windowNow();
    stream.on('data', this.#onData);
    stream.on('drain', this.#onDrain);
    stream.on('error', this.#onStreamError);
    stream.on('close', this.#onStreamClose);
    this.#tick = this.#clock.setTimer(this.#onTick, o.keepaliveMs / 2);
    this.#ackPending = true;
    this.#pump();
  }

  /** Counters for tests and benchmarks. */
  stats(): SerialLinkStats {
    return { ...this.#stats, srttMs: this.#rtt.srtt ?? 0 };
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
    this.#closed = new Promise((resolve) => (this.#closeDone = resolve));
    if (this.#finished) {
      this.#closeDone?.();
      return this.#closed;
    }
    this.#closing = true;
    const error = new LinkError('link-closed', 'the link was closed here');
    this.#inbox.fail(error);
    this.#queue.fail(error, false);
    this.#pump();
    // A peer that has closed reads nothing more and may be gone: our FIN above is a
    // courtesy, and waiting for its acknowledgement would wait for nobody.
    if (this.#peerFin) this.#finish();
    return this.#closed;
  }

  // ---- Sending ----------------------------------------------------------------------

  #pump(): void {
    while (!this.#finished && !this.#stream.writableNeedDrain) {
      if (this.#ackForced || (this.#ackPending && this.#ooo.size > 0)) {
        this.#writeAck();
        continue;
      }
      const segment = this.#nextResend() ?? this.#nextNew();
      if (segment) this.#writeData(segment);
      else if (this.#ackPending) this.#writeAck();
      else break;
    }
  }

  #nextResend(): Segment | undefined {
    for (let s = this.#resend.shift(); s; s = this.#resend.shift()) {
      s.queued = false;
      if (this.#unacked.has(s.seq) && !s.sacked) return s;
    }
    return undefined;
  }

  #nextNew(): Segment | undefined {
    const limit = Math.min(this.#sndUna + this.#o.window, this.#peerLimit);
    if (this.#sndNext >= limit || this.#finSeq !== undefined) return undefined;
    if (!this.#current && !this.#peerFin) {
      const frame = this.#queue.take();
      if (frame) this.#current = { frame, offset: 0 };
    }
    let payload: Uint8Array;
    let end = false;
    let fin = false;
    const current = this.#current;
    if (current) {
      const size = Math.min(this.#o.segmentBytes, current.frame.length - current.offset);
      payload = current.frame.subarray(current.offset, current.offset + size);
      current.offset += size;
      end = current.offset === current.frame.length;
      if (end) this.#current = undefined;
    } else if (this.#closing && this.#queue.length === 0) {
      payload = new Uint8Array(0);
      fin = true;
      this.#finSeq = this.#sndNext;
    } else {
      return undefined;
    }
    const seq = this.#sndNext++;
    const segment: Segment = {
      seq,
      payload,
      end,
      fin,
      sentAt: 0,
      sends: 0,
      sacked: false,
      queued: false,
    };
    this.#unacked.set(seq, segment);
    return segment;
  }

  #writeData(segment: Segment): void {
    if (segment.sends > 0) {
      this.#stats.retransmissions++;
      this.#log.debug('serial: resending segment', segment.seq);
    }
    segment.sends++;
    segment.sentAt = this.#clock.now();
    this.#stats.segmentsSent++;
    const { seq, end, fin, payload } = segment;
    this.#write(
      encodeSerialFrame({
        kind: 'data',
        seq,
        ack: this.#rcvNext,
        window: this.#advertise(),
        end,
        fin,
        payload,
      }),
    );
    if (!this.#rtoTimer) this.#armRto();
  }

  #writeAck(): void {
    this.#lastAck = this.#clock.now();
    this.#ackForced = false;
    let sack = 0;
    for (let i = 0; i < 32; i++) if (this.#ooo.has(this.#rcvNext + 1 + i)) sack |= 1 << i;
    this.#write(
      encodeSerialFrame({ kind: 'ack', ack: this.#rcvNext, window: this.#advertise(), sack }),
    );
  }

  #write(bytes: Uint8Array): void {
    this.#ackPending = false;
    this.#stream.write(bytes);
  }

  // ---- Receiving --------------------------------------------------------------------

  readonly #onData = (chunk: Buffer): void => {
    if (this.#finished) return;
    for (const frame of this.#decoder.push(chunk)) {
      if (frame === 'bad') {
        this.#stats.badFrames++;
        continue;
      }
      this.#lastHeard = this.#clock.now();
      this.#onAck(frame);
      if (frame.kind === 'data') this.#onSegment(frame);
      if (this.#finished) return;
    }
    this.#pump();
  };

  #onAck(frame: DataFrame | AckFrame): void {
    const ack = unwrap(frame.ack, this.#sndUna);
    // An acknowledgement older than the last one tells nothing new; frames stay in order
    // on a serial line, so the newest window advertisement is the one that counts.
    if (ack > this.#sndNext || ack < this.#sndUna) return;
    this.#peerLimit = ack + frame.window;
    if (ack > this.#sndUna) {
      // Karn's rule, widened: an acknowledgement that covers any resent segment, or that
      // arrives only because a resend filled a hole, says nothing about the round trip.
      let clean = true;
      for (let s = this.#sndUna; s < ack; s++) {
        const segment = this.#unacked.get(s);
        if (!segment || segment.sends > 1 || segment.sacked) clean = false;
      }
      const newest = this.#unacked.get(ack - 1);
      if (clean && newest) this.#rtt.sample(this.#clock.now() - newest.sentAt);
      for (let s = this.#sndUna; s < ack; s++) this.#unacked.delete(s);
      this.#sndUna = ack;
      this.#rtoTimer?.cancel();
      this.#rtoTimer = undefined;
      if (this.#unacked.size > 0) this.#armRto();
    }
    if (frame.kind === 'ack' && frame.sack !== 0) this.#onSack(frame.sack);
    if (this.#finSeq !== undefined && this.#sndUna > this.#finSeq) this.#finAcked();
  }

  #onSack(sack: number): void {
    let highest = -1;
    for (let i = 0; i < 32; i++) {
      if (!(sack & (1 << i))) continue;
      const segment = this.#unacked.get(this.#sndUna + 1 + i);
      if (segment) segment.sacked = true;
      highest = this.#sndUna + 1 + i;
    }
    // A hole below a selectively acknowledged segment was lost, unless we resent it less
    // than a round trip ago.
    const now = this.#clock.now();
    const recent = this.#rtt.srtt ?? this.#o.minRtoMs;
    for (let s = this.#sndUna; s < highest; s++) {
      const segment = this.#unacked.get(s);
      if (segment && !segment.sacked && !segment.queued && now - segment.sentAt > recent) {
        segment.queued = true;
        this.#resend.push(segment);
      }
    }
  }

  #onSegment(frame: DataFrame): void {
    const seq = unwrap(frame.seq, this.#rcvNext);
    this.#ackPending = true;
    if (seq < this.#rcvNext || this.#ooo.has(seq)) {
      this.#stats.duplicates++;
      return;
    }
    const held = this.#inbox.bytes + this.#partialBytes + this.#ooo.size * this.#o.segmentBytes;
    if (seq - this.#rcvNext >= this.#o.window || held > 2 * this.#o.receiveBufferBytes) return;
    this.#ooo.set(seq, { payload: frame.payload, end: frame.end, fin: frame.fin });
    for (let next = this.#ooo.get(this.#rcvNext); next; next = this.#ooo.get(this.#rcvNext)) {
      this.#ooo.delete(this.#rcvNext++);
      if (next.fin) {
        this.#onPeerFin();
        return;
      }
      this.#partial.push(next.payload);
      this.#partialBytes += next.payload.length;
      if (this.#partialBytes > this.maxFrameSize) {
        this.#fail(
          new LinkError('link-error', `peer sent a frame over ${this.maxFrameSize} bytes`),
        );
        return;
      }
      if (next.end) this.#deliver();
    }
  }

  #deliver(): void {
    const frame = new Uint8Array(this.#partialBytes);
    let at = 0;
    for (const part of this.#partial) {
      frame.set(part, at);
      at += part.length;
    }
    this.#partial = [];
    this.#partialBytes = 0;
    this.#inbox.push(frame);
  }

  #onPeerFin(): void {
    this.#peerFin = true;
    this.#inbox.end();
    this.#queue.fail(new LinkError('link-closed', 'the peer closed the link'), true);
    this.#current = undefined;
    // Both ends closing at once: the peer's FIN says it reads nothing more and may be gone
    // before it acknowledges ours, so waiting for that would wait for nobody (and a new
    // peer on the same line would keep this end alive, deaf to it, for good).
    if (this.#closing) this.#finish();
  }

  #finAcked(): void {
    this.#closeDone?.();
    if (this.#peerFin) this.#finish();
    else this.#lingerUntil = Math.min(this.#lingerUntil, this.#clock.now() + this.#o.lingerMs);
  }

  /** The reader took a frame: reopen the window if the peer was told it was nearly shut. */
  #readerTook(): void {
    if (this.#finished) return;
    if (this.#advertised * 2 < this.#o.window && this.#windowNow() > this.#advertised) {
      this.#ackPending = true;
      this.#pump();
    }
  }

  #windowNow(): number {
    const free = this.#o.receiveBufferBytes - this.#inbox.bytes - this.#partialBytes;
    return Math.max(0, Math.min(this.#o.window, Math.floor(free / this.#o.segmentBytes)));
  }

  #advertise(): number {
    this.#advertised = this.#windowNow();
    return this.#advertised;
  }

  // ---- Timers -----------------------------------------------------------------------

  #armRto(): void {
    this.#rtoTimer = this.#clock.setTimer(this.#onRto, this.#rtt.rto);
  }

  readonly #onRto = (): void => {
    this.#rtoTimer = undefined;
    if (this.#finished || this.#unacked.size === 0) return;
    // RFC 6298 §5.5: back off, then resend what the peer has not acknowledged.
    this.#rtt.backOff();
    for (const segment of this.#unacked.values()) {
      if (!segment.sacked && !segment.queued) {
        segment.queued = true;
        this.#resend.push(segment);
      }
    }
    this.#armRto();
    this.#pump();
  };

  readonly #onTick = (): void => {
    if (this.#finished) return;
    const now = this.#clock.now();
    if (now >= this.#lingerUntil) return this.#finish();
    if (now - this.#lastHeard > this.#o.deadPeerMs) {
      if (this.#peerFin) return this.#finish();
      const seconds = (this.#o.deadPeerMs / 1000).toFixed(1);
      return this.#fail(new LinkError('timeout', `nothing heard from the peer for ${seconds} s`));
    }
    // A short acknowledgement at least every half keep-alive period, even while data flows:
    // on a noisy line long data frames may all be damaged, and the peer must still hear
    // that this end is alive and what it has received.
    if (now - this.#lastAck >= this.#o.keepaliveMs / 2) this.#ackForced = true;
    this.#tick = this.#clock.setTimer(this.#onTick, this.#o.keepaliveMs / 2);
    this.#pump();
  };

  readonly #onDrain = (): void => this.#pump();

  readonly #onStreamError = (error: Error): void => {
    this.#fail(new LinkError('link-error', `the line failed: ${error.message}`, { cause: error }));
  };

  readonly #onStreamClose = (): void => {
    if (!this.#finished) this.#fail(new LinkError('link-error', 'the line was closed'));
  };

  // ---- Ending -----------------------------------------------------------------------

  #fail(error: LinkError): void {
    if (this.#finished) return;
    this.#log.info('serial: link failed', error.message);
    this.#inbox.fail(error);
    this.#queue.fail(error, true);
    this.#finish();
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#tick?.cancel();
    this.#rtoTimer?.cancel();
    this.#stream.off('data', this.#onData);
    this.#stream.off('drain', this.#onDrain);
    this.#stream.off('close', this.#onStreamClose);
    // A late error of the caller's stream must not crash a process that attached no
    // listener of its own: one shared listener that ignores it replaces this link's, which
    // would otherwise keep every finished link reachable from a long-lived stream.
    this.#stream.off('error', this.#onStreamError);
    if (this.#stream.listenerCount('error') === 0) this.#stream.on('error', IGNORE_ERROR);
    this.#closeDone?.();
  }
}
