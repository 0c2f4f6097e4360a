/**
 * A byte-line model: two Node Duplex streams joined like the two ends of a serial cable or
 * an infrared path, with the line's bit rate, character format, latency, duplex and
 * turnaround, bit errors, outages and a cut, on a virtual clock.
 *
 * Framing layers (serial, IrDA) run over it exactly as over a real port, so bit errors
 * reach their checksums and retransmission. A bit error in a data bit flips that bit; one
 * in the start or stop bit of a UART character loses the character, as a receiver that
 * misses the start edge or sees a framing error would.
 *
 * The receiver never loses bytes to a slow reader: the line waits while the far stream's
 * buffer is full, as with RTS/CTS hardware flow control.
 */
import { Duplex } from 'node:stream';
import type { Clock } from '../clock.ts';
import { checkLinkParams, lineTimeMs, type LinkParams } from './link-params.ts';
import { BitErrorSource } from './seeded-random.ts';

/** How one run of a byte line behaves, beyond the line's fixed parameters. */
export interface LineOptions {
  clock: Clock;
  /** Bit error rate (default 0). */
  ber?: number;
  /** Source of randomness for bit errors; required when `ber` > 0. */
  random?: () => number;
  /** Line bytes (both directions) after which the line carries nothing more. */
  cutAtByte?: number;
}

/** Counters of a byte-line run. */
export interface LineStats {
  /** Bytes put on the line, both directions. */
  sentBytes: number;
  /** Bytes the far end received (lost ones excluded). */
  deliveredBytes: number;
  flippedBits: number;
  lostBytes: number;
}

/** The two ends of a modelled line and the controls of a test or benchmark. */
export interface ModelLinePair {
  a: Duplex;
  b: Duplex;
  /** From now on the line carries nothing, in either direction. */
  cut(): void;
  /** For the next `ms` of line time nothing gets through (an infrared path blocked). */
  outage(ms: number): void;
  stats(): LineStats;
}

type Side = 'a' | 'b';

interface Pending {
  chunk: Uint8Array;
  done: (error?: Error | null) => void;
}

/**
 * Joins two byte-stream ends. Time passes only on `options.clock`.
 *
 * @throws RangeError for bad parameters, or `ber` > 0 without `random`
 */
export function createModelLinePair(params: LinkParams, options: LineOptions): ModelLinePair {
  checkLinkParams(params);
  if (params.slots) throw new RangeError('expected a line without a slot schedule, got slots');
  const ber = options.ber ?? 0;
  if (ber > 0 && !options.random) throw new RangeError('expected random when ber > 0, got none');
  const errors = new BitErrorSource(ber, options.random ?? Math.random);
  const clock = options.clock;
  const stats: LineStats = { sentBytes: 0, deliveredBytes: 0, flippedBits: 0, lostBytes: 0 };
  const busyUntil = { a: 0, b: 0 };
  let lastSide: Side | undefined;
  let cutAt = options.cutAtByte ?? Number.POSITIVE_INFINITY;
  let darkFrom = Number.POSITIVE_INFINITY;
  let darkUntil = Number.NEGATIVE_INFINITY;
  const byteMs = lineTimeMs(params, 1);
  const uart = params.bitsPerByte === 10;

  const queues: Record<Side, Pending[]> = { a: [], b: [] };
  const busy = { a: false, b: false };
  const ends = {} as Record<Side, Duplex>;
  const other = (side: Side): Side => (side === 'a' ? 'b' : 'a');

  /** Which bytes of a transmission survive the line, with bit errors applied. */
  const damage = (chunk: Uint8Array, start: number): Uint8Array => {
    const out = new Uint8Array(chunk.length);
    let n = 0;
    const flips = errors.errorsIn(chunk.length * params.bitsPerByte);
    let f = 0;
    for (let i = 0; i < chunk.length; i++) {
      const at = start + i * byteMs;
      const seq = stats.sentBytes + i;
      let byte = chunk[i]!;
      let lost = seq >= cutAt || (at >= darkFrom && at < darkUntil);
      for (; f < flips.length && Math.floor(flips[f]! / params.bitsPerByte) === i; f++) {
        const bit = flips[f]! % params.bitsPerByte;
        const dataBit = uart ? bit - 1 : bit;
        if (dataBit < 0 || dataBit > 7) lost = true;
        else byte ^= 1 << dataBit;
        stats.flippedBits++;
      }
      if (lost) stats.lostBytes++;
      else out[n++] = byte;
    }
    return out.subarray(0, n);
  };

  const pump = (side: Side): void => {
    if (busy[side]) return;
    const far = ends[other(side)];
    if (far.destroyed) {
      for (const p of queues[side].splice(0)) p.done();
      return;
    }
    if (far.readableLength >= far.readableHighWaterMark) return;
    const next = queues[side].shift();
    if (!next) return;

    const now = clock.now();
    const half = params.duplex === 'half';
    let start = half ? Math.max(now, busyUntil.a, busyUntil.b) : Math.max(now, busyUntil[side]);
    if (half && lastSide !== undefined && lastSide !== side) start += params.turnaroundMs;
    const end = start + next.chunk.length * byteMs;
    busyUntil[side] = end;
    lastSide = side;
    busy[side] = true;
    const survived = damage(next.chunk, start);
    stats.sentBytes += next.chunk.length;

    clock.setTimer(() => {
      busy[side] = false;
      next.done();
      pump(side);
    }, end - now);
    clock.setTimer(
      () => {
        if (survived.length === 0 || far.destroyed) return;
        stats.deliveredBytes += survived.length;
        far.push(survived);
      },
      end + params.latencyMs - now,
    );
  };

  const makeEnd = (side: Side): Duplex =>
    new Duplex({
      highWaterMark: 1024,
      write(chunk: Buffer, _encoding, done) {
        queues[side].push({ chunk: new Uint8Array(chunk), done });
        pump(side);
      },
      read() {
        pump(other(side));
      },
      destroy(error, done) {
        for (const p of queues[side].splice(0)) p.done();
        done(error);
      },
    });
  ends.a = makeEnd('a');
  ends.b = makeEnd('b');

  return {
    a: ends.a,
    b: ends.b,
    cut: () => void (cutAt = Math.min(cutAt, stats.sentBytes)),
    outage(ms) {
      if (!(ms >= 0)) throw new RangeError(`expected ms >= 0, got ${ms}`);
      darkFrom = clock.now();
      darkUntil = darkFrom + ms;
    },
    stats: () => ({ ...stats }),
  };
}
