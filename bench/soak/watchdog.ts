/**
 * A watchdog for in-process fuzzing and a memory sampler.
 *
 * A decoder that loops forever never returns to the event loop, so no timer in the fuzzing
 * thread can notice it. The watchdog is a worker thread that shares one buffer with the
 * fuzzing thread: before each input the fuzzer copies the input there and bumps a counter
 * to an odd value, after it back to even. If the counter stays on the same odd value for
 * longer than the hang limit, the worker saves the input as hex under bench/out/soak/,
 * writes one line naming it, and kills the whole process, which the runner reports as a
 * hang of that part. Inputs longer than the shared buffer are saved truncated (stated in
 * the file name).
 */
import { Worker } from 'node:worker_threads';

/** Largest input kept for a hang report, in bytes. */
const INPUT_ROOM = 1 << 20;
/** Counter, input length, target index. */
const HEADER_INTS = 3;

const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');
const { shared, hangMs, outDir, part } = workerData;
const targets = [];
parentPort.on('message', (m) => { targets[m.index] = m.name; });
const head = new Int32Array(shared, 0, 3);
const bytes = new Uint8Array(shared, 12);
let seen = -1;
let since = Date.now();
setInterval(() => {
  const counter = Atomics.load(head, 0);
  if (counter !== seen) { seen = counter; since = Date.now(); return; }
  if (counter % 2 === 0 || Date.now() - since < hangMs) return;
  const length = Atomics.load(head, 1);
  const kept = Math.min(length, bytes.length);
  const target = targets[Atomics.load(head, 2)] || 'unknown';
  fs.mkdirSync(outDir, { recursive: true });
  const name = (part + '-' + target + '-hang' + (kept < length ? '-truncated' : '') + '.hex')
    .replace(/[^\\w.-]/g, '_');
  const hex = Buffer.from(bytes.subarray(0, kept)).toString('hex');
  fs.writeFileSync(path.join(outDir, name), hex + '\\n');
  // A worker's process.stderr goes through the stuck main thread: write to fd 2 directly.
  fs.writeSync(2, 'soak-hang ' + target + ' ' + name + ' after ' + hangMs + ' ms\\n');
  process.kill(process.pid, 'SIGKILL');
}, Math.max(20, Math.floor(hangMs / 10)));
`;

/** The watchdog of one fuzzing process. */
export class Watchdog {
  readonly #worker: Worker;
  readonly #head: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #targets: string[] = [];

  /**
   * @param part the part's name, for the hang file
   * @param hangMs how long one input may run before it counts as a hang
   * @param outDir where a hanging input is saved
   */
  constructor(part: string, hangMs: number, outDir: string) {
    const shared = new SharedArrayBuffer(HEADER_INTS * 4 + INPUT_ROOM);
    this.#head = new Int32Array(shared, 0, HEADER_INTS);
    this.#bytes = new Uint8Array(shared, HEADER_INTS * 4);
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { shared, hangMs, outDir, part },
    });
    this.#worker.unref();
  }

  /** Marks the start of one input to `target`. */
  watch(target: string, input: Uint8Array): void {
    let index = this.#targets.indexOf(target);
    if (index < 0) {
      // The worker runs on its own thread, so it gets the name even while this one is stuck.
      index = this.#targets.push(target) - 1;
      this.#worker.postMessage({ index, name: target });
    }
    const kept = Math.min(input.length, this.#bytes.length);
    this.#bytes.set(input.length > kept ? input.subarray(0, kept) : input);
    Atomics.store(this.#head, 1, input.length);
    Atomics.store(this.#head, 2, index);
    Atomics.store(this.#head, 0, (Atomics.load(this.#head, 0) + 1) | 1);
  }

  /** Marks the end of the current input. */
  unwatch(): void {
    const c = Atomics.load(this.#head, 0);
    if (c % 2 === 1) Atomics.store(this.#head, 0, c + 1);
  }

  /** Stops the worker. */
  async stop(): Promise<void> {
    await this.#worker.terminate();
  }
}

/**
 * Samples the process's memory. Sampling is explicit (call {@link sample} from the work
 * loop) because a busy synchronous loop starves interval timers.
 */
export class MemorySampler {
  peakRss = 0;
  peakHeap = 0;
  #baselineHeap: number | undefined;

  /** Takes one sample and returns the heap in use, in bytes. */
  sample(): number {
    const m = process.memoryUsage();
    this.peakRss = Math.max(this.peakRss, m.rss);
    this.peakHeap = Math.max(this.peakHeap, m.heapUsed);
    return m.heapUsed;
  }

  /**
   * Heap in use after a full collection when the process runs with `--expose-gc`, else the
   * plain heap in use: the figure to compare before and after a run for a leak.
   */
  settledHeap(): number {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc) gc();
    return this.sample();
  }

  /** Remembers the settled heap now, as the point growth is measured from. */
  setBaseline(): void {
    this.#baselineHeap = this.settledHeap();
  }

  /** Settled heap growth since {@link setBaseline}, in bytes (0 without a baseline). */
  growth(): number {
    return this.#baselineHeap === undefined ? 0 : this.settledHeap() - this.#baselineHeap;
  }
}
