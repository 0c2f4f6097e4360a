/**
 * The `certsync` command line: finds the command, parses its options with `util.parseArgs`,
 * runs it, prints its result (text, or JSON with `--json`), and turns failures into one line
 * on standard error and an exit status (node/cli/README.md lists them).
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { exitStatusFor, isCertsyncError } from '../../protocol/errors.ts';
import { Store } from '../store/index.ts';
import { UsageError, type Command, type CommandContext, type OptionSpec } from './command.ts';
import { loadCommands, resolveCommand } from './registry.ts';
import { TypedAnswers } from './typed-answers.ts';

/** Options every command takes. */
export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  store: {
    type: 'string',
    help: 'PATH  the store file (default $CERTSYNC_STORE, else ~/.certsync/store.sqlite)',
  },
  json: { type: 'boolean', help: 'print the result as JSON' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};

/** Where the store lives: `--store`, else `$CERTSYNC_STORE`, else `~/.certsync/store.sqlite`. */
export function resolveStorePath(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): string {
  const chosen = flag ?? env.CERTSYNC_STORE;
  if (chosen) return resolve(cwd, chosen);
  return join(env.HOME || homedir(), '.certsync', 'store.sqlite');
}

function optionLines(options: Readonly<Record<string, OptionSpec>>): string[] {
  return Object.entries(options).map(([name, o]) => {
    const [arg, ...rest] = o.help.split('  ');
    const text = rest.length ? `--${name} ${arg}` : `--${name}`;
    return `  ${text.padEnd(24)} ${rest.length ? rest.join('  ') : o.help}`;
  });
}

function commandHelp(c: Command): string {
  return [
    `usage: certsync ${c.name}${c.args ? ` ${c.args}` : ''} [options]`,
    '',
    c.summary,
    '',
    'options:',
    ...optionLines({ ...c.options, ...GLOBAL_OPTIONS }),
    '',
  ].join('\n');
}

function overview(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'usage: certsync COMMAND [arguments] [options]',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Every command takes --store PATH, --json and --help. See node/cli/README.md.',
    '',
  ].join('\n');
}

/**
 * Splits the command words off `argv`: the first run of plain words, which global options
 * (`--store PATH`, `--json`, `--help`) may precede. Everything else is left for parseArgs.
 */
function commandWords(argv: readonly string[]): { words: string[]; rest: string[] } {
  const words: string[] = [];
  const rest: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--store' && words.length === 0) {
      rest.push(a, argv[++i] ?? '');
    } else if (/^(--store=.*|--json|--help|-h)$/.test(a) && words.length === 0) {
      rest.push(a);
    } else if (words.length < 3 && /^[a-z][a-z-]*$/.test(a)) {
      words.push(a);
    } else {
      break;
    }
  }
  return { words, rest: [...rest, ...argv.slice(i)] };
}

/** Streams main writes to; injectable so tests can run commands in-process. */
export interface CliIo {
  readonly stdout: (data: string | Uint8Array) => void;
  readonly stderr: (data: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

const PROCESS_IO: CliIo = {
  stdout: (data) => process.stdout.write(data),
  stderr: (data) => process.stderr.write(data),
  env: process.env,
  cwd: process.cwd(),
};

function errorLine(error: unknown, json: boolean): { line: string; status: number } {
  if (error instanceof UsageError) {
    const line = json
      ? JSON.stringify({ error: { code: 'usage', message: error.message } })
      : `certsync: ${error.message}`;
    return { line, status: 2 };
  }
  if (isCertsyncError(error)) {
    const line = json
      ? JSON.stringify({ error: { code: error.code, message: error.message } })
      : `certsync: ${error.message}`;
    return { line, status: exitStatusFor(error.code) };
  }
  const message = error instanceof Error ? error.message : String(error);
  const line = json
    ? JSON.stringify({ error: { code: 'internal', message } })
    : `certsync: unexpected failure: ${message}`;
  return { line, status: 1 };
}

/**
 * Runs the command line `argv` (without the node and script paths) and resolves with the exit
 * status: 0 success, 1 unexpected failure, 2 usage mistake, 10 and up a CertsyncError code.
 * Never throws.
 */
export async function main(argv: readonly string[], io: CliIo = PROCESS_IO): Promise<number> {
  const json = argv.includes('--json');
  const stores: Store[] = [];
  try {
    const { words, rest } = commandWords(argv);
    const found = await resolveCommand(words);
    if (!found) {
      const { commands, broken } = await loadCommands();
      for (const b of broken) io.stderr(`certsync: ${b}\n`);
      io.stdout(overview(commands));
      if (words.length === 0 && (argv.includes('--help') || argv.includes('-h'))) return 0;
      throw new UsageError(
        words.length ? `unknown command: ${words.join(' ')}` : 'no command given',
      );
    }
    const { command, taken } = found;
    const extraWords = words.slice(taken);
    let parsed;
    try {
      parsed = parseArgs({
        args: [...extraWords, ...rest],
        options: { ...command.options, ...GLOBAL_OPTIONS },
        allowPositionals: true,
        strict: true,
      });
    } catch (error) {
      throw new UsageError(`${command.name}: ${(error as Error).message.split('\n')[0]}`);
    }
    if (parsed.values.help) {
      io.stdout(commandHelp(command));
      return 0;
    }
    const { min, max } = command.positionals;
    const count = parsed.positionals.length;
    if (count < min || (max !== undefined && count > max)) {
      const expected =
        max === undefined ? `at least ${min}` : min === max ? `${min}` : `${min} to ${max}`;
      throw new UsageError(
        `${command.name}: expected ${expected} argument${max === 1 ? '' : 's'} (${command.args || 'none'}), got ${count}`,
      );
    }
    const storeFlag = parsed.values.store;
    // Made at the first question only: a command that asks nothing never reads its input.
    let answers: TypedAnswers | undefined;
    const ctx: CommandContext = {
      options: parsed.values,
      positionals: parsed.positionals,
      storePath: resolveStorePath(
        typeof storeFlag === 'string' ? storeFlag : undefined,
        io.env,
        io.cwd,
      ),
      json,
      openStore: (options = {}) => {
        const store = Store.open(ctx.storePath, { create: options.create ?? false });
        stores.push(store);
        return store;
      },
      writeStdout: io.stdout,
      warn: (line) => {
        if (!json) io.stderr(`${line}\n`);
      },
      ask: (question) => {
        answers ??= new TypedAnswers(process.stdin, { write: (text: string) => io.stderr(text) });
        return answers.ask(question);
      },
      env: io.env,
      cwd: io.cwd,
    };
    const output = await command.run(ctx);
    if (json) io.stdout(`${JSON.stringify(output.json, null, 2)}\n`);
    else if (output.text) io.stdout(output.text.endsWith('\n') ? output.text : `${output.text}\n`);
    if (output.error) {
      const { code, message } = output.error;
      io.stderr(
        `${json ? JSON.stringify({ error: { code, message } }) : `certsync: ${message}`}\n`,
      );
    }
    return output.status ?? 0;
  } catch (error) {
    const { line, status } = errorLine(error, json);
    io.stderr(`${line}\n`);
    return status;
  } finally {
    for (const store of stores) store.close();
  }
}
