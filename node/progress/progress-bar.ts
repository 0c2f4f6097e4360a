/**
 * A progress bar on standard error for transfers that last more than a moment: a bar,
 * certificates done of the total, bytes moved, the rate and the time left. It draws nothing
 * when disabled (`--json`, or standard error is not a terminal) and nothing during the
 * first moment, so quick transfers stay quiet.
 */

/** Where the bar is drawn: a terminal stream, or anything that looks like one in tests. */
export interface ProgressOutput {
  write(text: string): unknown;
  /** The terminal's width; 0 or absent when it reports none (then {@link FALLBACK_COLUMNS}). */
  readonly columns?: number;
}

/**
 * The width assumed when the terminal reports none: a pty that was never given a size says 0
 * columns, and a bar cut to fit that would show nothing useful.
 */
export const FALLBACK_COLUMNS = 80;

/** Settings of a {@link ProgressBar}. */
export interface ProgressOptions {
  readonly output: ProgressOutput;
  /** False draws nothing at all. */
  readonly enabled: boolean;
  /** A word before the bar: `push`, `pull`, `sync`. */
  readonly label: string;
  /** Milliseconds before the first drawing (default 300). */
  readonly delayMs?: number;
  /** Least milliseconds between two drawings (default 100). */
  readonly intervalMs?: number;
  /** Clock in ms; default Date.now. */
  readonly now?: () => number;
}

/** The numbers one update reports. */
export interface ProgressState {
  readonly items: number;
  /** Items in all, when known. */
  readonly total?: number;
  /** Bytes moved so far, both directions. */
  readonly bytes: number;
}

/** One progress bar; call {@link ProgressBar.finish} once the transfer is over. */
export class ProgressBar {
  private readonly o: Required<Omit<ProgressOptions, 'output'>> & { output: ProgressOutput };
  private readonly started: number;
  private lastDraw = 0;
  private drawn = false;
  private state: ProgressState = { items: 0, bytes: 0 };

  constructor(options: ProgressOptions) {
    this.o = { delayMs: 300, intervalMs: 100, now: Date.now, ...options };
    this.started = this.o.now();
  }

  /** Records new numbers and redraws when it is time to. */
  update(state: ProgressState): void {
    this.state = state;
    if (!this.o.enabled) return;
    const now = this.o.now();
    if (now - this.started < this.o.delayMs || now - this.lastDraw < this.o.intervalMs) return;
    this.lastDraw = now;
    this.draw(now);
  }

  /** Draws the final numbers (when the bar was shown) and ends the line. */
  finish(): void {
    if (!this.o.enabled || !this.drawn) return;
    this.draw(this.o.now());
    this.o.output.write('\n');
  }

  /** The line the bar shows for `state` at `now`; exported for tests through the class. */
  line(now: number): string {
    const { items, total, bytes } = this.state;
    const seconds = Math.max(0.001, (now - this.started) / 1000);
    const rate = bytes / seconds;
    const parts = [this.o.label.padEnd(5)];
    if (total !== undefined && total > 0) {
      const width = 20;
      const filled = Math.min(width, Math.round((items / total) * width));
      parts.push(`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`);
      parts.push(`${items}/${total} certs`);
    } else {
      parts.push(`${items} certs`);
    }
    parts.push(formatBytes(bytes), `${formatBytes(rate)}/s`);
    if (total !== undefined && items > 0 && items < total) {
      const left = ((total - items) * seconds) / items;
      parts.push(`${formatDuration(left)} left`);
    }
    return parts.join('  ');
  }

  private draw(now: number): void {
    const text = this.line(now);
    const reported = this.o.output.columns;
    const width =
      reported !== undefined && Number.isFinite(reported) && reported > 0
        ? reported
        : FALLBACK_COLUMNS;
    // One column short of the width, so that the cursor never wraps to a new line.
    this.o.output.write(`\r${text.slice(0, Math.max(10, width - 1))}\x1b[K`);
    this.drawn = true;
  }
}

/** `1.2 KB`, `3.4 MB`: bytes for a person (powers of 1000). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${Math.round(n)} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} KB`;
  return `${(n / 1e6).toFixed(1)} MB`;
}

/** `0:07`, `2:05`: minutes and seconds. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
