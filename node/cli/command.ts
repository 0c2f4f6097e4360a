/**
 * What a CLI command is, and what it gets to work with. Each command lives in its own file
 * under `commands/` and default-exports a {@link Command} (or an array of them); the
 * registry finds them there, so adding a command is adding a file.
 */
import type { Store } from '../store/index.ts';

/** One option of a command, in `util.parseArgs` terms plus a line of help. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  readonly short?: string;
  /** Shown in `--help`, e.g. `ORDER  store, use, subject or contact (default store)`. */
  readonly help: string;
}

/** Values parsed from the command line. */
export type OptionValues = Readonly<
  Record<string, string | boolean | (string | boolean)[] | undefined>
>;

/** What a command returns: the text for people and the value printed under `--json`. */
export interface CommandOutput {
  readonly text: string;
  readonly json: unknown;
  /** Exit status; default 0. */
  readonly status?: number;
  /** The failure to report on standard error when `status` is not 0. */
  readonly error?: { readonly code: string; readonly message: string };
}

/** Everything a running command may use. */
export interface CommandContext {
  readonly options: OptionValues;
  readonly positionals: readonly string[];
  /** Resolved store path: `--store`, else `$CERTSYNC_STORE`, else `~/.certsync/store.sqlite`. */
  readonly storePath: string;
  readonly json: boolean;
  /** Opens the store (closed by the runner afterwards). */
  openStore(options?: { create?: boolean }): Store;
  /** Writes to standard output directly (for binary exports). */
  writeStdout(data: string | Uint8Array): void;
  /** Writes one line to standard error (in text mode only: progress and warnings). */
  warn(line: string): void;
  /**
   * Writes `question` on standard error and resolves with the next line of standard input (a
   * terminal or a pipe), or null when input ends. Lines that arrived before their question
   * are answers too, taken in order (node/cli/typed-answers.ts).
   */
  ask(question: string): Promise<string | null>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** A `certsync` command. */
export interface Command {
  /** One or two words: `list`, `contacts import`. */
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Arguments after the name, for usage: `FILE...`. */
  readonly args: string;
  /** Least and most positional arguments (max undefined: any number). */
  readonly positionals: { readonly min: number; readonly max?: number };
  readonly options: Readonly<Record<string, OptionSpec>>;
  run(ctx: CommandContext): Promise<CommandOutput> | CommandOutput;
}

/** A mistake in how the command was called: exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
