/**
 * An emulated IrDA link: a {@link Link} over IrLAP-like stations on any byte stream (a
 * serial port, a pty, the byte-line model), in SIR framing (sir-framing.ts).
 *
 * What it keeps of IrLAP 1.1:
 * - Normal response mode, half duplex: one primary and one secondary pass the right to
 *   transmit with the P/F bit (§5.2.2.1). A station sends only while it holds it, waits the
 *   minimum turnaround time before transmitting (§6.6.8), and keeps each turn within the
 *   maximum turnaround time (§6.6.11) by limiting the bytes it sends per turn.
 * - A window of up to 7 I-frames with modulo-8 N(S) / N(R) (§5.2.2.2). When a station gets
 *   the right to transmit, the peer's last frame tells it which I-frames were lost, and it
 *   resends those first. Unlike IrLAP, which goes back N, the receiver keeps frames that
 *   arrive after a lost one and lists them in one extra byte of its final RR / RNR, so only
 *   the damaged frames are sent again. A receiver keeps frames up to 8 - window ahead, so
 *   with modulo-8 numbers a resent old frame can never pass for a new one, even when a
 *   repeated poll leaves a station acting on stale acknowledgements: the default window of
 *   4 keeps 4 ahead; a window of 7 receives in order only, as IrLAP does.
 * - RR and RNR, so a receiver whose reader is behind stops the sender (§5.2.2.3).
 * - SNRM / UA to connect, DISC / UA to close; RD when the secondary asks to close.
 * - The primary's F-timer: when no final frame comes back it polls again; the secondary's
 *   watchdog. A station that hears nothing valid for `disconnectMs` (line of sight lost for
 *   longer than the link disconnect time, §6.6.12) drops the link with `link-error`. An
 *   outage shorter than that by at least one F-timer period (the poll interval, about the
 *   maximum turnaround time) costs only retransmissions.
 *
 * What it leaves out: discovery (XID), parameter negotiation (both ends must be given the
 * same data size and window), selective reject, and IrLMP / TinyTP above IrLAP. A link
 * frame larger than one I-frame is split into I-frames marked by a one-byte header.
 */
import type { Duplex } from 'node:stream';
import { realClock, type Clock, type Timer } from '../clock.ts';
import { checkFrame, FrameInbox, SendQueue } from '../frame-queues.ts';
import { LinkError, silentLogger, type Link, type Logger } from '../link.ts';
import {
  iFrame,
  parseIrlapFrame,
  S,
  SEGMENT_END,
  sFrame,
  U,
  uFrame,
  type IrlapFrame,
} from './irlap-frame.ts';
import { encodeSirFrame, SirDecoder, sirEncodedMax } from './sir-framing.ts';

/** Tuning of an IrDA link; both ends must agree on everything but `role`. */
export interface IrdaLinkOptions {
  /** The primary starts the connection and polls; the secondary answers. */
  role: 'primary' | 'secondary';
  /** Largest link frame (default 65536). */
  maxFrameSize?: number;
  /** IrLAP data size: bytes of information per I-frame, 64 to 2048 (default 2048). */
  dataSize?: number;
  /** I-frames in flight, 1 to 7 (default 4); the receiver keeps 8 - window ahead. */
  window?: number;
  /** Line rate in bit/s, for the per-turn byte budget (default 115200). */
  bitRate?: number;
  /** Longest turn, in ms (default 500, IrLAP's default maximum turnaround time). */
  maxTurnaroundMs?: number;
  /** Wait before transmitting after receiving (default 1). */
  minTurnaroundMs?: number;
  /** Silence after which a connected link drops (default 3000). */
  disconnectMs?: number;
  /** How long to wait for the other station to connect (default 30000). */
  connectTimeoutMs?: number;
  /** How long an idle primary holds its turn before polling again (default 50). */
  idlePollMs?: number;
  /** Extra BOF bytes before each frame, for slow receivers (default 0). */
  extraBofs?: number;
  /** Bytes `send` accepts ahead of the line; bytes held for the reader (default 64 KiB). */
  sendBufferBytes?: number;
  receiveBufferBytes?: number;
  /** 7-bit connection address (default 0x2a). */
  address?: number;
  clock?: Clock;
  logger?: Logger;
}

/** Counters of one IrDA station. */
export interface IrdaLinkStats {
  iFramesSent: number;
  retransmissions: number;
  /** Frames dropped for a bad FCS, bad framing or a bad length. */
  badFrames: number;
  /** I-frames dropped because they came out of sequence. */
  outOfSequence: number;
  turns: number;
  /** F-timer expiries: polls that went unanswered. */
  pollTimeouts: number;
}

type Phase = 'connecting' | 'connected' | 'finished';

/** One IrDA station as a {@link Link}; see the module comment. */
export class IrdaLink implements Link {
  readonly maxFrameSize: number;
  readonly #o: Required<Omit<IrdaLinkOptions, 'clock' | 'logger'>>;
  readonly #stream: Duplex;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #primary: boolean;
  readonly #decoder: SirDecoder;
  readonly #queue: SendQueue;
  readonly #inbox: FrameInbox;
  readonly #stats: IrdaLinkStats = {
    iFramesSent: 0,
    retransmissions: 0,
    badFrames: 0,
    outOfSequence: 0,
    turns: 0,
    pollTimeouts: 0,
  };

  #phase: Phase = 'connecting';
  #hasToken: boolean;
  #turnTimer: Timer | undefined;
  #idleWait = false;
  #fTimer: Timer | undefined;
  #watchdog: Timer | undefined;
  #lastHeard: number;
  readonly #startedAt: number;
  #pollOnly = false;
  #heardData = false;

  // Sending: I-frames va..vs-1 are unacknowledged; `unacked` holds their information.
  #va = 0;
  #vs = 0;
  readonly #unacked = new Map<number, Uint8Array>();
  #current: { frame: Uint8Array; offset: number } | undefined;
  #peerBusy = false;
  /** I-frames at or above `va` the peer said it holds: not to be resent. */
  readonly #peerHolds = new Set<number>();

  // Receiving.
  #vr = 0;
  /** I-frames received after a missing one, by sequence number. */
  readonly #held = new Map<number, Uint8Array>();
  #partial: Uint8Array[] = [];
  #partialBytes = 0;

  // Closing.
  #closing = false;
  #peerClosed = false;
  #closeDone: (() => void) | undefined;
  #closed: Promise<void> | undefined;

  /**
   * Starts the station on `stream` at once: a primary begins connecting. The stream stays
   * the caller's; the link never ends or destroys it.
   *
   * @throws RangeError for options out of range
   */
  constructor(stream: Duplex, options: IrdaLinkOptions) {
    this.#o = {
      role: options.role,
      maxFrameSize: options.maxFrameSize ?? 65536,
      dataSize: options.dataSize ?? 2048,
      window: options.window ?? 4,
      bitRate: options.bitRate ?? 115_200,
      maxTurnaroundMs: options.maxTurnaroundMs ?? 500,
      minTurnaroundMs: options.minTurnaroundMs ?? 1,
      disconnectMs: options.disconnectMs ?? 3000,
      connectTimeoutMs: options.connectTimeoutMs ?? 30_000,
      idlePollMs: options.idlePollMs ?? 50,
      extraBofs: options.extraBofs ?? 0,
      sendBufferBytes: options.sendBufferBytes ?? 65536,
      receiveBufferBytes: options.receiveBufferBytes ?? 65536,
      address: options.address ?? 0x2a,
    };
    const o = this.#o;
    if (o.role !== 'primary' && o.role !== 'secondary') {
      throw new RangeError(`expected role primary or secondary, got ${String(o.role)}`);
    }
    if (!(o.dataSize >= 64 && o.dataSize <= 2048)) {
      throw new RangeError(`expected dataSize in 64..2048, got ${o.dataSize}`);
    }
    if (!(Number.isInteger(o.window) && o.window >= 1 && o.window <= 7)) {
      throw new RangeError(`expected window in 1..7, got ${o.window}`);
    }
    if (!(o.address >= 0 && o.address < 0x7f)) {
      throw new RangeError(`expected address in 0..0x7e, got ${o.address}`);
    }
    this.maxFrameSize = o.maxFrameSize;
    this.#stream = stream;
    this.#clock = options.clock ?? realClock;
    this.#log = options.logger ?? silentLogger;
    this.#primary = o.role === 'primary';
    this.#hasToken = this.#primary;
    this.#decoder = new SirDecoder(2 + o.dataSize);
    this.#queue = new SendQueue(o.sendBufferBytes, () => this.#dataWaiting());
    this.#inbox = new FrameInbox();
    this.#lastHeard = this.#startedAt = this.#clock.now();
    stream.on('data', this.#onData);
    stream.on('error', this.#onStreamError);
    stream.on('close', this.#onStreamClose);
    this.#armWatchdog();
    if (this.#primary) this.#scheduleTurn(0);
  }

  /** Counters for tests and benchmarks. */
  stats(): IrdaLinkStats {
    return { ...this.#stats };
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
    if (this.#phase === 'finished') {
      this.#closeDone?.();
      return this.#closed;
    }
    this.#closing = true;
    const error = new LinkError('link-closed', 'the link was closed here');
    this.#inbox.fail(error);
    this.#queue.fail(error, false);
    // Even before the connection is up, the close goes through it, so the peer learns
    // of it; with no peer at all the connect timeout ends the wait.
    this.#dataWaiting();
    return this.#closed;
  }

  // ---- Turns ------------------------------------------------------------------------

  /** New data or a close: an idle primary holding its turn uses it now. */
  #dataWaiting(): void {
    if (this.#hasToken && this.#idleWait) {
      this.#turnTimer?.cancel();
      this.#scheduleTurn(0);
    }
  }

  #scheduleTurn(delayMs: number): void {
    this.#turnTimer?.cancel();
    this.#idleWait = delayMs > this.#o.minTurnaroundMs;
    this.#turnTimer = this.#clock.setTimer(() => this.#takeTurn(), delayMs);
  }

  /** Transmits one turn's frames, the last with P/F, and hands the turn over. */
  #takeTurn(): void {
    this.#turnTimer = undefined;
    this.#idleWait = false;
    if (this.#phase === 'finished' || !this.#hasToken) return;
    const a = this.#o.address;
    const cmd = this.#primary;
    const frames: Uint8Array[] = [];
    let final: Uint8Array;

    if (this.#phase === 'connecting') {
      final = uFrame(a, true, U.SNRM, true);
    } else if (this.#wantsDisconnect()) {
      // The primary ends the connection with DISC; a secondary asks for it with RD.
      final = uFrame(a, cmd, U.DISC_OR_RD, true);
    } else {
      if (!this.#pollOnly && !this.#peerBusy) this.#addIFrames(frames);
      // The turn always ends with a 2-byte RR or RNR carrying P/F rather than with P/F on
      // the last I-frame: a damaged long frame then costs a resend, not an F-timer wait.
      const busy = this.#inbox.bytes + this.#partialBytes >= this.#o.receiveBufferBytes;
      let received = 0;
      for (let i = 0; i < 7; i++) if (this.#held.has(this.#vr + 1 + i)) received |= 1 << i;
      final = sFrame(a, cmd, busy ? S.RNR : S.RR, this.#vr, true, received);
    }
    this.#pollOnly = false;
    frames.push(final);
    this.#stats.turns++;
    this.#hasToken = false;
    const bytes = Buffer.concat(frames.map((f) => encodeSirFrame(f, this.#o.extraBofs)));
    this.#stream.write(bytes, () => this.#turnWritten());
  }

  #addIFrames(frames: Uint8Array[]): void {
    // The bytes of one turn must fit the maximum turnaround time (IrLAP §6.6.11). A frame
    // costs its address, control, information, FCS, BOF and EOF, plus escapes: about 1 in
    // 85 bytes of random data is one of the three escaped values.
    const budget = (this.#o.bitRate / 10) * (this.#o.maxTurnaroundMs / 1000);
    const cost = (infoBytes: number) => infoBytes + 6 + Math.ceil(infoBytes / 85);
    let spent = 0;
    const fits = (infoBytes: number) => frames.length === 0 || spent + cost(infoBytes) <= budget;
    // Whatever the peer neither acknowledged nor holds by now was lost: send it again.
    for (let s = this.#va; s < this.#vs; s++) {
      if (this.#peerHolds.has(s)) continue;
      const info = this.#unacked.get(s)!;
      if (!fits(info.length)) return;
      frames.push(iFrame(this.#o.address, this.#primary, s, this.#vr, false, info));
      spent += cost(info.length);
      this.#stats.retransmissions++;
      this.#stats.iFramesSent++;
    }
    while (this.#vs - this.#va < this.#o.window && fits(this.#o.dataSize)) {
      const info = this.#nextSegment();
      if (!info) return;
      this.#unacked.set(this.#vs, info);
      frames.push(iFrame(this.#o.address, this.#primary, this.#vs, this.#vr, false, info));
      this.#vs++;
      spent += cost(info.length);
      this.#stats.iFramesSent++;
    }
  }

  /** The next I-frame information field: segment header, then up to dataSize - 1 bytes. */
  #nextSegment(): Uint8Array | undefined {
    if (!this.#current) {
      const frame = this.#queue.take();
      if (!frame) return undefined;
      this.#current = { frame, offset: 0 };
    }
    const c = this.#current;
    const size = Math.min(this.#o.dataSize - 1, c.frame.length - c.offset);
    const info = new Uint8Array(1 + size);
    info.set(c.frame.subarray(c.offset, c.offset + size), 1);
    c.offset += size;
    if (c.offset === c.frame.length) {
      info[0] = SEGMENT_END;
      this.#current = undefined;
    }
    return info;
  }

  #wantsDisconnect(): boolean {
    if (this.#peerClosed) return this.#primary;
    return this.#closing && !this.#current && this.#queue.length === 0 && this.#va === this.#vs;
  }

  #turnWritten(): void {
    if (this.#phase === 'finished' || !this.#primary || this.#hasToken) return;
    // The F-timer runs from the end of our transmission until the secondary's final frame.
    const frameMs = (sirEncodedMax(this.#o.dataSize + 2) * 10 * 1000) / this.#o.bitRate;
    const wait = Math.max(this.#o.maxTurnaroundMs, frameMs) + 2 * this.#o.minTurnaroundMs + 100;
    this.#fTimer?.cancel();
    this.#fTimer = this.#clock.setTimer(this.#onFTimer, wait);
  }

  readonly #onFTimer = (): void => {
    this.#fTimer = undefined;
    if (this.#phase === 'finished' || this.#hasToken) return;
    this.#stats.pollTimeouts++;
    if (this.#checkSilence()) return;
    // No final frame came back: poll again, without I-frames, to learn the peer's N(R).
    this.#hasToken = true;
    this.#pollOnly = this.#phase === 'connected';
    this.#scheduleTurn(0);
  };

  // ---- Receiving --------------------------------------------------------------------

  readonly #onData = (chunk: Buffer): void => {
    if (this.#phase === 'finished') return;
    for (const raw of this.#decoder.push(chunk)) {
      if (raw === 'bad') {
        this.#stats.badFrames++;
        continue;
      }
      const frame = parseIrlapFrame(raw, this.#o.address);
      // A station hears only the other role: commands at the secondary, responses at the
      // primary. This also ignores its own frames on a medium that echoes them.
      if (!frame || frame.command === this.#primary) continue;
      this.#lastHeard = this.#clock.now();
      this.#onFrame(frame);
      if ((this.#phase as Phase) === 'finished') return;
    }
  };

  #onFrame(frame: IrlapFrame): void {
    if (frame.kind === 'u') return this.#onUnnumbered(frame.type, frame.pf);
    if (this.#phase !== 'connected') return;
    this.#onAck(frame.nr);
    if (frame.kind === 's') {
      this.#peerBusy = frame.type === S.RNR;
      if (frame.pf) {
        // The final frame's list replaces the last one: the peer's latest state is the truth.
        this.#peerHolds.clear();
        for (let i = 0; i < 7; i++) {
          if (frame.received & (1 << i)) this.#peerHolds.add(this.#va + 1 + i);
        }
      }
    } else this.#onIFrame(frame.ns, frame.info);
    if (frame.pf) this.#gotToken();
  }

  #onUnnumbered(type: number, pf: boolean): void {
    const a = this.#o.address;
    if (!this.#primary && type === U.SNRM) {
      // A repeated SNRM means our UA was lost; answer again without starting over.
      this.#phase = 'connected';
      this.#reply(uFrame(a, false, U.UA, true));
    } else if (this.#primary && type === U.UA) {
      if (this.#phase === 'connecting') {
        this.#phase = 'connected';
        this.#gotToken();
      } else if (this.#wantsDisconnect()) {
        this.#finish();
      }
    } else if (!this.#primary && type === U.DISC_OR_RD) {
      this.#peerEnded();
      this.#reply(uFrame(a, false, U.UA, true), () => this.#finish());
    } else if (this.#primary && type === U.DISC_OR_RD) {
      this.#peerEnded();
      if (pf) this.#gotToken();
    } else if (type === U.DM) {
      this.#fail(new LinkError('link-error', 'the peer station is disconnected'));
    }
  }

  /** A secondary answers a U-frame command at once, after the turnaround time. */
  #reply(frame: Uint8Array, then?: () => void): void {
    this.#clock.setTimer(() => {
      if (this.#phase === 'finished') return;
      this.#stream.write(encodeSirFrame(frame, this.#o.extraBofs), then);
    }, this.#o.minTurnaroundMs);
  }

  #onAck(nr: number): void {
    const acked = this.#va + ((nr - this.#va) & 7);
    if (acked > this.#vs) return;
    for (let s = this.#va; s < acked; s++) this.#unacked.delete(s);
    this.#va = acked;
  }

  #onIFrame(ns: number, info: Uint8Array): void {
    this.#heardData = true;
    // Sender window + receive window <= 8 keeps old and new frames apart (see the top).
    const ahead = (ns - this.#vr) & 7;
    const held = this.#inbox.bytes + this.#partialBytes + this.#held.size * this.#o.dataSize;
    const tooFar = ahead >= 8 - this.#o.window;
    if (tooFar || info.length < 1 || held > 2 * this.#o.receiveBufferBytes) {
      this.#stats.outOfSequence++;
      return;
    }
    this.#held.set(this.#vr + ahead, info.slice());
    for (let next = this.#held.get(this.#vr); next; next = this.#held.get(this.#vr)) {
      this.#held.delete(this.#vr++);
      this.#takeSegment(next);
      if ((this.#phase as Phase) === 'finished') return;
    }
  }

  #takeSegment(info: Uint8Array): void {
    const payload = info.subarray(1);
    this.#partial.push(payload);
    this.#partialBytes += payload.length;
    if (this.#partialBytes > this.maxFrameSize) {
      return this.#fail(
        new LinkError('link-error', `peer sent a frame over ${this.maxFrameSize} bytes`),
      );
    }
    if (info[0]! & SEGMENT_END) {
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
  }

  #gotToken(): void {
    this.#fTimer?.cancel();
    this.#fTimer = undefined;
    this.#hasToken = true;
    const idle =
      this.#primary &&
      !this.#heardData &&
      this.#vs === this.#va &&
      this.#queue.length === 0 &&
      !this.#current &&
      !this.#closing &&
      !this.#peerClosed;
    this.#heardData = false;
    this.#scheduleTurn(idle ? this.#o.idlePollMs : this.#o.minTurnaroundMs);
  }

  // ---- Ending -----------------------------------------------------------------------

  #armWatchdog(): void {
    this.#watchdog = this.#clock.setTimer(() => {
      if (this.#phase === 'finished' || this.#checkSilence()) return;
      this.#armWatchdog();
    }, this.#o.disconnectMs / 4);
  }

  /** Drops the link when it has been silent too long; true when it did. */
  #checkSilence(): boolean {
    const now = this.#clock.now();
    if (this.#phase === 'connecting') {
      if (now - this.#startedAt <= this.#o.connectTimeoutMs) return false;
      this.#fail(new LinkError('timeout', 'no IrDA station answered'));
      return true;
    }
    if (now - this.#lastHeard <= this.#o.disconnectMs) return false;
    if (this.#peerClosed) this.#finish();
    else this.#fail(new LinkError('link-error', 'line of sight lost: the link dropped'));
    return true;
  }

  #peerEnded(): void {
    if (this.#peerClosed) return;
    this.#peerClosed = true;
    this.#inbox.end();
    this.#queue.fail(new LinkError('link-closed', 'the peer closed the link'), true);
    this.#current = undefined;
  }

  readonly #onStreamError = (error: Error): void => {
    this.#fail(new LinkError('link-error', `the line failed: ${error.message}`, { cause: error }));
  };

  readonly #onStreamClose = (): void => {
    if (this.#phase !== 'finished') this.#fail(new LinkError('link-error', 'the line was closed'));
  };

  #fail(error: LinkError): void {
    if (this.#phase === 'finished') return;
    this.#log.info('irda: link failed', error.message);
    this.#inbox.fail(error);
    this.#queue.fail(error, true);
    this.#finish();
  }

  #finish(): void {
    if (this.#phase === 'finished') return;
    this.#phase = 'finished';
    this.#turnTimer?.cancel();
    this.#fTimer?.cancel();
    this.#watchdog?.cancel();
    this.#stream.off('data', this.#onData);
    this.#stream.off('close', this.#onStreamClose);
    // As in the serial link, the error listener stays so a late stream error is ignored.
    this.#closeDone?.();
  }
}
