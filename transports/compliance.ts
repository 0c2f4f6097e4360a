/**
 * The transport compliance suite: the rules of transports/link.ts, checked against any
 * {@link Link} implementation through a pair factory.
 *
 * Call {@link runLinkCompliance} from a test file; it registers node:test tests. Every
 * test makes a fresh pair and cleans it up, pass or fail. The suite checks behaviour only
 * through the Link interface, so a transport passes it or fails it on the wire's terms.
 *
 * @example
 * runLinkCompliance('tcp', async () => {
 *   const { a, b, close } = await tcpLinkPair();
 *   return { a, b, cleanup: close };
 * });
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLinkError, type Link, type LinkErrorCode } from './link.ts';

/** Two joined ends of the transport under test. */
export interface LinkPair {
  a: Link;
  b: Link;
  /**
   * Breaks the connection abruptly in both directions, as a pulled cable or a peer that
   * vanished. Optional in the type so a pair can be shared with other tests, but the cut
   * test fails without it.
   */
  cut?: () => void | Promise<void>;
  /** Releases everything the pair holds (processes, sockets, timers). Called once. */
  cleanup(): Promise<void>;
}

/** Sizes and limits of a suite run, for links much slower or smaller than usual. */
export interface ComplianceOptions {
  /** Payload bytes each direction carries in the ordering test (default 256 KiB). */
  volumeBytes?: number;
  /** Bytes a link may buffer between writer and reader before `send` waits (default 1 MiB). */
  maxBufferedBytes?: number;
  /** Real milliseconds without progress after which a writer counts as held (default 300). */
  stallMs?: number;
  /** Real milliseconds each test may take (default 120000). */
  timeoutMs?: number;
}

/** Deterministic frame content: frame `index` of stream `seed`, `length` bytes. */
export function patternFrame(seed: number, index: number, length: number): Uint8Array {
  const frame = new Uint8Array(length);
  let x = (Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    frame[i] = x & 0xff;
  }
  return frame;
}

/** Frame lengths for a stream: a mix of 1 byte, the maximum and everything between. */
export function frameLengths(seed: number, total: number, maxFrameSize: number): number[] {
  const lengths: number[] = [];
  let sum = 0;
  for (let i = 0; sum < total; i++) {
    const pick = patternFrame(seed, -1 - i, 4);
    const r = ((pick[0]! << 16) | (pick[1]! << 8) | pick[2]!) / 0x1000000;
    const kind = i % 7;
    const length = kind === 0 ? 1 : kind === 1 ? maxFrameSize : 1 + Math.floor(r * maxFrameSize);
    lengths.push(length);
    sum += length;
  }
  return lengths;
}

/**
 * Asserts that `promise` rejects with a LinkError whose code is one of `codes`.
 *
 * @throws AssertionError otherwise
 */
export async function rejectsWithLinkError(
  promise: Promise<unknown>,
  codes: readonly LinkErrorCode[],
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isLinkError(error), `expected a LinkError, got ${String(error)}`);
    assert.ok(codes.includes(error.code), `expected code in ${codes.join('|')}, got ${error.code}`);
    return true;
  });
}

async function sendAll(link: Link, seed: number, lengths: number[]): Promise<void> {
  for (let i = 0; i < lengths.length; i++) await link.send(patternFrame(seed, i, lengths[i]!));
}

async function receiveAll(link: Link, seed: number, lengths: number[]): Promise<void> {
  for (let i = 0; i < lengths.length; i++) {
    const frame = await link.receive();
    assert.ok(frame, `expected frame ${i} of ${lengths.length}, got the end of the link`);
    assert.equal(frame.length, lengths[i], `length of frame ${i}`);
    assert.deepEqual(frame, patternFrame(seed, i, lengths[i]!), `content of frame ${i}`);
  }
}

/** Resolves once `progress()` has not changed for `stallMs`, or `done` settled. */
async function untilStalled(progress: () => number, stallMs: number, done: Promise<unknown>) {
  let finished = false;
  void done.then(
    () => (finished = true),
    () => (finished = true),
  );
  let last = -1;
  while (!finished) {
    last = progress();
    await new Promise((r) => setTimeout(r, stallMs));
    if (progress() === last) return;
  }
}

const FAILED: readonly LinkErrorCode[] = ['link-error', 'timeout'];

/**
 * Registers the compliance tests for one transport.
 *
 * @param name the transport's name, used as the test group's title
 * @param makePair makes a fresh, connected pair for each test
 */
export function runLinkCompliance(
  name: string,
  makePair: () => Promise<LinkPair>,
  options: ComplianceOptions = {},
): void {
  const volume = options.volumeBytes ?? 256 * 1024;
  const bound = options.maxBufferedBytes ?? 1024 * 1024;
  const stallMs = options.stallMs ?? 300;
  const timeout = options.timeoutMs ?? 120_000;

  const withPair = (body: (pair: LinkPair) => Promise<void>) => async () => {
    const pair = await makePair();
    try {
      await body(pair);
    } finally {
      await pair.cleanup();
    }
  };

  describe(`link compliance: ${name}`, { timeout }, () => {
    it(
      'delivers frames whole and in order, both ways at once',
      withPair(async ({ a, b }) => {
        const ab = frameLengths(1, volume, a.maxFrameSize);
        const ba = frameLengths(2, volume, b.maxFrameSize);
        await Promise.all([
          sendAll(a, 1, ab),
          receiveAll(b, 1, ab),
          sendAll(b, 2, ba),
          receiveAll(a, 2, ba),
        ]);
      }),
    );

    it(
      'accepts a frame of maxFrameSize and refuses one byte more, sending nothing',
      withPair(async ({ a, b }) => {
        const max = a.maxFrameSize;
        await rejectsWithLinkError(a.send(new Uint8Array(max + 1)), ['frame-too-large']);
        const lengths = [max, 1];
        await Promise.all([sendAll(a, 3, lengths), receiveAll(b, 3, lengths)]);
        await rejectsWithLinkError(b.send(new Uint8Array(b.maxFrameSize + 1)), ['frame-too-large']);
        await Promise.all([sendAll(b, 4, [1]), receiveAll(a, 4, [1])]);
      }),
    );

    it(
      'holds a writer that outpaces its reader, then delivers everything',
      withPair(async ({ a, b }) => {
        const size = Math.min(a.maxFrameSize, 8192);
        const lengths = new Array<number>(Math.ceil((2 * bound + size) / size)).fill(size);
        let accepted = 0;
        const writer = (async () => {
          for (let i = 0; i < lengths.length; i++) {
            await a.send(patternFrame(5, i, size));
            accepted += size;
          }
        })();
        await untilStalled(() => accepted, stallMs, writer);
        assert.ok(accepted <= bound, `writer got ${accepted} bytes ahead of an idle reader`);
        await Promise.all([writer, receiveAll(b, 5, lengths)]);
      }),
    );

    it(
      'after a clean close the peer reads every frame, then null, and cannot send',
      withPair(async ({ a, b }) => {
        const lengths = frameLengths(6, 4 * a.maxFrameSize, a.maxFrameSize).slice(0, 6);
        const closed = sendAll(a, 6, lengths).then(() => a.close());
        await receiveAll(b, 6, lengths);
        assert.equal(await b.receive(), null);
        assert.equal(await b.receive(), null, 'the end is reported again');
        await closed;
        await rejectsWithLinkError(b.send(new Uint8Array([1])), ['link-closed']);
        await b.close();
      }),
    );

    it(
      'close rejects pending and later calls with link-closed, and may be repeated',
      withPair(async ({ a, b }) => {
        const pending = a.receive();
        const closed = a.close();
        await rejectsWithLinkError(pending, ['link-closed']);
        await rejectsWithLinkError(a.receive(), ['link-closed']);
        await rejectsWithLinkError(a.send(new Uint8Array([1])), ['link-closed']);
        await closed;
        await a.close();
        assert.equal(await b.receive(), null);
        await b.close();
      }),
    );

    it(
      'a send waiting on a full link is rejected by close',
      withPair(async ({ a, b }) => {
        const size = Math.min(a.maxFrameSize, 8192);
        let accepted = 0;
        let waiting: Promise<void> | undefined;
        const writer = (async () => {
          for (let i = 0; accepted <= 2 * bound; i++) {
            waiting = a.send(patternFrame(7, i, size));
            await waiting;
            accepted += size;
          }
        })();
        writer.catch(() => {}); // checked below
        await untilStalled(() => accepted, stallMs, writer);
        assert.ok(waiting, 'the writer started');
        const closed = a.close();
        await rejectsWithLinkError(writer, ['link-closed']);
        let frames = 0;
        for (let f = await b.receive(); f !== null; f = await b.receive()) {
          assert.deepEqual(f, patternFrame(7, frames, size), `content of frame ${frames}`);
          frames++;
        }
        assert.equal(frames * size, accepted, 'every accepted frame arrived, no other');
        await closed;
      }),
    );

    it(
      'carries an empty frame, in order with others',
      withPair(async ({ a, b }) => {
        const lengths = [0, 1, 0, 0, 2];
        await Promise.all([sendAll(a, 10, lengths), receiveAll(b, 10, lengths)]);
        await Promise.all([sendAll(b, 11, lengths), receiveAll(a, 11, lengths)]);
      }),
    );

    it(
      'a cut fails pending reads at both ends, each end with one code throughout',
      withPair(async ({ a, b, cut }) => {
        assert.ok(cut, 'the pair factory must supply cut()');
        await Promise.all([sendAll(a, 12, [1]), receiveAll(b, 12, [1])]);
        const pendingA = a.receive();
        const pendingB = b.receive();
        pendingA.catch(() => {});
        pendingB.catch(() => {});
        await cut();
        const codes = async (end: Link, pending: Promise<unknown>) => {
          const calls = [
            () => pending,
            () => end.receive(),
            () => end.send(new Uint8Array([1])),
            () => end.receive(),
          ];
          const seen: string[] = [];
          for (const call of calls) {
            const p = call();
            await rejectsWithLinkError(p, FAILED);
            await p.catch((e: { code: string }) => seen.push(e.code));
          }
          assert.equal(new Set(seen).size, 1, `codes ${seen.join(', ')}`);
        };
        await Promise.all([codes(a, pendingA), codes(b, pendingB)]);
      }),
    );

    it(
      'a cut fails both ends with an error, never a truncated or wrong frame',
      withPair(async ({ a, b, cut }) => {
        assert.ok(cut, 'the pair factory must supply cut()');
        const size = a.maxFrameSize;
        const writer = (async () => {
          // More than the link may buffer, so the writer is still waiting at the cut.
          const count = Math.ceil((2 * bound) / size) + 2;
          for (let i = 0; i < count; i++) await a.send(patternFrame(8, i, size));
        })();
        writer.catch(() => {}); // checked below; the failure may come first
        const first = await b.receive();
        assert.deepEqual(first, patternFrame(8, 0, size));
        await cut();
        for (let i = 1; ; i++) {
          const next = b.receive();
          const result = await next.then(
            (frame) => ({ frame }),
            (error: unknown) => ({ error }),
          );
          if ('error' in result) {
            await rejectsWithLinkError(Promise.reject(result.error), FAILED);
            break;
          }
          assert.ok(result.frame, 'a cut is not a clean end');
          assert.deepEqual(result.frame, patternFrame(8, i, size), `content of frame ${i}`);
        }
        await rejectsWithLinkError(writer, FAILED);
        await rejectsWithLinkError(a.receive(), FAILED);
        await rejectsWithLinkError(b.send(new Uint8Array([1])), FAILED);
      }),
    );
  });
}
