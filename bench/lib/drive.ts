/**
 * Drivers that run two {@link SchemeSide}s against each other and count what it cost:
 * in memory by flights (what each side sends after reading the whole previous flight),
 * or over a {@link Link} pair (a link model on a virtual clock, or a real link).
 *
 * Round trips are counted the same way by both: every frame carries, on a side channel
 * outside the link, its depth — 1 for what a side sends unprompted, k + 1 for what it sends
 * on reading a frame of depth k, and for a frame of the side's sketch stream the depth of
 * its first stream frame (scheme.ts, `stream`). The deepest frame is the number of
 * flights, and round trips are flights / 2. CPU time is process CPU (user + system) spent inside the sides'
 * steps, codec included; memory is the peak resident set sampled as the run goes.
 */
import type { Clock } from '../../transports/clock.ts';
import type { Link } from '../../transports/link.ts';
import type { Outgoing, SchemeSide } from './scheme.ts';

/** Bytes and frames one way. */
export interface DirectionCount {
  discovery: number;
  payload: number;
  /** Frames in all, and those of them that carry an entry. */
  frames: number;
  entryFrames: number;
  /** Link runs: clock time of the first payload frame handed to the link, and of the last
   * one received; null without payload (or in memory). */
  firstPayloadSentMs: number | null;
  lastPayloadReceivedMs: number | null;
}

/** What one run cost. */
export interface RunResult {
  readonly flights: number;
  readonly roundTrips: number;
  readonly aToB: DirectionCount;
  readonly bToA: DirectionCount;
  /** Process CPU time inside both sides' steps, in ms. */
  readonly cpuMs: number;
  /** Link runs: clock time until both sides finished, in ms; null in memory. */
  readonly linkMs: number | null;
  /** Highest resident set size sampled during the run, in bytes. */
  readonly peakRssBytes: number;
}

function emptyCount(): DirectionCount {
  return {
    discovery: 0,
    payload: 0,
    frames: 0,
    entryFrames: 0,
    firstPayloadSentMs: null,
    lastPayloadReceivedMs: null,
  };
}

function tally(count: DirectionCount, out: Outgoing): void {
  count.frames += 1;
  if (out.payload) {
    count.payload += out.frame.length;
    count.entryFrames += 1;
  } else count.discovery += out.frame.length;
}

/** Process CPU time, user and system, in ms. */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Calls `step`, adding its CPU time to `acc.ms`. */
function timed<T>(acc: { ms: number }, step: () => T): T {
  const t0 = cpuMs();
  try {
    return step();
  } finally {
    acc.ms += cpuMs() - t0;
  }
}

/**
 * Runs `a` and `b` to the end in memory, flight by flight; `onFlight` is called after each
 * (outside the CPU timing), for memory sampling.
 *
 * @throws Error when they still talk after `maxFlights`, or go quiet unfinished
 */
export function runInMemory(
  a: SchemeSide,
  b: SchemeSide,
  maxRounds = 256,
  onFlight: () => void = () => undefined,
): RunResult {
  const aToB = emptyCount();
  const bToA = emptyCount();
  const cpu = { ms: 0 };
  let peak = process.memoryUsage.rss();
  const depthA = new StreamDepth();
  const depthB = new StreamDepth();
  let toB = depthA.tag(
    timed(cpu, () => a.start()),
    0,
  );
  let toA = depthB.tag(
    timed(cpu, () => b.start()),
    0,
  );
  toB.forEach((o) => tally(aToB, o.out));
  toA.forEach((o) => tally(bToA, o.out));
  let flights = 0;
  let rounds = 0;
  while (toA.length > 0 || toB.length > 0) {
    for (const o of [...toA, ...toB]) flights = Math.max(flights, o.depth);
    if (++rounds > maxRounds) throw new Error(`still talking after ${maxRounds} rounds`);
    const nextToA: Deep[] = [];
    const nextToB: Deep[] = [];
    timed(cpu, () => {
      for (const o of toB) nextToA.push(...depthB.tag(b.receive(o.out.frame), o.depth));
      for (const o of toA) nextToB.push(...depthA.tag(a.receive(o.out.frame), o.depth));
    });
    nextToA.forEach((o) => tally(bToA, o.out));
    nextToB.forEach((o) => tally(aToB, o.out));
    peak = Math.max(peak, process.memoryUsage.rss());
    onFlight();
    toA = nextToA;
    toB = nextToB;
  }
  if (!a.finished || !b.finished) throw new Error('the sides went quiet before both finished');
  return {
    flights,
    roundTrips: flights / 2,
    aToB,
    bToA,
    cpuMs: cpu.ms,
    linkMs: null,
    peakRssBytes: peak,
  };
}

interface Deep {
  readonly out: Outgoing;
  readonly depth: number;
}

/** One side's depths: k + 1 on reading depth k; a stream's frames at its first one's. */
class StreamDepth {
  private readonly streams = new Map<string, number>();

  /** Depth of a frame sent on reading a frame of depth `cause` (0: unprompted). */
  depthOf(out: Outgoing, cause: number): number {
    if (out.stream === undefined) return cause + 1;
    const first = this.streams.get(out.stream);
    if (first !== undefined) return first;
    this.streams.set(out.stream, cause + 1);
    return cause + 1;
  }

  tag(outs: readonly Outgoing[], cause: number): Deep[] {
    return outs.map((out) => ({ out, depth: this.depthOf(out, cause) }));
  }
}

interface Tagged {
  readonly depth: number;
  readonly payload: boolean;
}

/** Options of {@link runOverLink}. */
export interface LinkRunOptions {
  /** The clock of the links (virtual for a model); times are read from it. */
  readonly clock: Clock;
  /** Wall-clock ms after which the run fails as stuck (default 300,000). */
  readonly wallLimitMs?: number;
}

/**
 * Runs `a` on link end `linkA` and `b` on `linkB` until both finish. Each side reads
 * frames one at a time and hands its replies to a writer of its own, so a side waiting on
 * back-pressure never stops reading (two sides streaming at each other cannot deadlock).
 * Does not close the links.
 *
 * @throws Error when a link ends early, a side throws, or the run exceeds `wallLimitMs`
 */
export async function runOverLink(
  a: SchemeSide,
  b: SchemeSide,
  linkA: Link,
  linkB: Link,
  options: LinkRunOptions,
): Promise<RunResult> {
  const clock = options.clock;
  const start = clock.now();
  const cpu = { ms: 0 };
  let peak = process.memoryUsage.rss();
  const aToB = emptyCount();
  const bToA = emptyCount();
  let flights = 0;
  const finishedAt: number[] = [];

  const runSide = async (
    side: SchemeSide,
    link: Link,
    sent: DirectionCount,
    received: DirectionCount,
    outFifo: Tagged[],
    inFifo: Tagged[],
  ): Promise<void> => {
    const queue: { out: Outgoing; depth: number }[] = [];
    const depths = new StreamDepth();
    let wake: (() => void) | null = null;
    let closed = false;
    const writer = (async () => {
      for (;;) {
        const next = queue.shift();
        if (next === undefined) {
          if (closed) return;
          await new Promise<void>((r) => (wake = r));
          continue;
        }
        outFifo.push({ depth: next.depth, payload: next.out.payload });
        if (next.out.payload && sent.firstPayloadSentMs === null) {
          sent.firstPayloadSentMs = clock.now() - start;
        }
        await link.send(next.out.frame);
      }
    })();
    const enqueue = (outs: Outgoing[], cause: number): void => {
      for (const out of outs) {
        const depth = depths.depthOf(out, cause);
        tally(sent, out);
        queue.push({ out, depth });
        flights = Math.max(flights, depth);
      }
      const w = wake;
      wake = null;
      w?.();
    };
    enqueue(
      timed(cpu, () => side.start()),
      0,
    );
    let frames = 0;
    while (!side.finished) {
      const frame = await link.receive();
      if (frame === null) throw new Error('the link ended before the reconcile finished');
      const tag = inFifo.shift();
      if (tag === undefined) throw new Error('a frame arrived that no side sent');
      if (tag.payload) received.lastPayloadReceivedMs = clock.now() - start;
      enqueue(
        timed(cpu, () => side.receive(frame)),
        tag.depth,
      );
      if (++frames % 32 === 0) peak = Math.max(peak, process.memoryUsage.rss());
    }
    finishedAt.push(clock.now() - start);
    closed = true;
    const w = wake as (() => void) | null;
    w?.();
    await writer;
  };

  const fifoAB: Tagged[] = [];
  const fifoBA: Tagged[] = [];
  let timer: NodeJS.Timeout | undefined;
  const limit = options.wallLimitMs ?? 300_000;
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`run still going after ${limit} ms`)), limit);
  });
  try {
    await Promise.race([
      Promise.all([
        runSide(a, linkA, aToB, bToA, fifoAB, fifoBA),
        runSide(b, linkB, bToA, aToB, fifoBA, fifoAB),
      ]),
      stuck,
    ]);
  } finally {
    clearTimeout(timer);
  }
  peak = Math.max(peak, process.memoryUsage.rss());
  return {
    flights,
    roundTrips: flights / 2,
    aToB,
    bToA,
    cpuMs: cpu.ms,
    linkMs: Math.max(...finishedAt),
    peakRssBytes: peak,
  };
}
