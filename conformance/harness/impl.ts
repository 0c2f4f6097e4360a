/**
 * The implementation under test, as the runner sees it: a child process speaking the
 * adapter control protocol of conformance/README.md (one JSON object a line each way).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** JSON as the control protocol carries it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** An `ok: false` answer of the adapter, with the error code it gave. */
export class AdapterError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(`adapter refused: ${code}: ${message}`);
    this.name = 'AdapterError';
    this.code = code;
  }
}

/** How long one control request may take before the run calls the adapter hung. */
const REQUEST_TIMEOUT_MS = 60_000;

/** A started adapter; see the module comment. */
export class Impl {
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: Json) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();
  private exited = false;
  /** What the adapter wrote to standard error, for the report of a failure. */
  stderr = '';

  /** Starts `command` (split on spaces, no shell) in `cwd`. */
  constructor(command: string, cwd: string) {
    const [file, ...args] = command.trim().split(/\s+/);
    if (!file) throw new RangeError(`expected an adapter command, got '${command}'`);
    this.child = spawn(file, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr?.on('data', (b: Buffer) => {
      this.stderr = (this.stderr + b.toString()).slice(-4000);
    });
    const lines = createInterface({ input: this.child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => this.onLine(line));
    this.child.on('exit', () => {
      this.exited = true;
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error(`the adapter exited; its last words: ${this.stderr.slice(-500)}`));
      }
      this.pending.clear();
    });
  }

  /**
   * Sends one request and resolves with its `result`.
   *
   * @throws AdapterError when the adapter answers `ok: false`; Error when it hangs or exits
   */
  request(op: string, args: { [key: string]: Json } = {}): Promise<Json> {
    if (this.exited) return Promise.reject(new Error('the adapter has exited'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`the adapter did not answer ${op} within ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.child.stdin?.write(`${JSON.stringify({ id, op, args })}\n`);
    });
  }

  private onLine(line: string): void {
    let msg: {
      id?: number;
      ok?: boolean;
      result?: Json;
      error?: { code?: string; message?: string };
    };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      this.stderr += `\n(not JSON on stdout: ${line.slice(0, 200)})`;
      return;
    }
    const p = msg.id === undefined ? undefined : this.pending.get(msg.id);
    if (!p || msg.id === undefined) return;
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg.result ?? null);
    else p.reject(new AdapterError(msg.error?.code ?? 'internal', msg.error?.message ?? ''));
  }

  /** Asks the adapter to quit, and kills it (by its PID) if it has not after 5 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin?.end(`${JSON.stringify({ id: 0, op: 'quit' })}\n`);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(timer);
  }
}
