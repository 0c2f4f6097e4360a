/**
 * Where a command gets the passphrase that keeps a store's private keys encrypted at rest:
 * `--passphrase-file FILE` (its first line), else `$CERTSYNC_PASSPHRASE`, else a prompt on
 * the terminal, which does not echo. A command without any of them stops with a usage error
 * before it does anything.
 */
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { CertsyncError } from '../../protocol/errors.ts';
import { fileReadReason } from '../import/index.ts';
import { UsageError, type CommandContext, type OptionSpec } from './command.ts';

/** The option that names a passphrase file. */
export const PASSPHRASE_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  'passphrase-file': {
    type: 'string',
    help: "FILE  the store's passphrase for private keys: FILE's first line (default $CERTSYNC_PASSPHRASE, else asked)",
  },
};

/** Longest passphrase read from a file or the environment, in characters. */
const MAX_PASSPHRASE = 1024;

/**
 * The first line of the file `--name` names, as a passphrase.
 *
 * @throws CertsyncError `bad-input` when it cannot be read; UsageError when its first line
 *   is empty or too long
 */
export async function passphraseFile(ctx: CommandContext, name: string): Promise<string> {
  const path = ctx.options[name];
  if (typeof path !== 'string') throw new UsageError(`--${name} needs a FILE`);
  let text: string;
  try {
    text = await readFile(resolve(ctx.cwd, path), 'utf8');
  } catch (error) {
    throw new CertsyncError('bad-input', `--${name} ${path}: ${fileReadReason(error)}`, {
      cause: error,
    });
  }
  const line = text.split(/\r?\n/, 1)[0] ?? '';
  if (line.length === 0) throw new UsageError(`--${name} ${path}: the first line is empty`);
  if (line.length > MAX_PASSPHRASE) {
    throw new UsageError(`--${name} ${path}: expected at most ${MAX_PASSPHRASE} characters`);
  }
  return line;
}

/** Reads a line from the terminal without echoing it; null when input ends. */
async function askHidden(question: string): Promise<string | null> {
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  process.stderr.write(question);
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  try {
    const closed = new Promise<null>((resolve) => rl.once('close', () => resolve(null)));
    return await Promise.race([rl.question(''), closed]);
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

/**
 * The store's passphrase for `purpose` (e.g. `to store the private key`). Asked twice on a
 * terminal when `confirm` (a store's first key sets its passphrase).
 *
 * @throws UsageError when no source gives one, or the two typed ones differ
 */
export async function storePassphrase(
  ctx: CommandContext,
  purpose: string,
  options: { readonly confirm?: boolean } = {},
): Promise<string> {
  if (ctx.options['passphrase-file'] !== undefined) {
    return passphraseFile(ctx, 'passphrase-file');
  }
  const fromEnv = ctx.env.CERTSYNC_PASSPHRASE;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (fromEnv.length > MAX_PASSPHRASE) {
      throw new UsageError(`$CERTSYNC_PASSPHRASE: expected at most ${MAX_PASSPHRASE} characters`);
    }
    return fromEnv;
  }
  if (!process.stdin.isTTY || ctx.json) {
    throw new UsageError(
      `a passphrase is needed ${purpose}: --passphrase-file FILE, $CERTSYNC_PASSPHRASE, or a terminal`,
    );
  }
  const typed = await askHidden(`Passphrase ${purpose}: `);
  if (!typed) throw new UsageError(`no passphrase given ${purpose}`);
  if (options.confirm) {
    const again = await askHidden('The same passphrase again: ');
    if (again !== typed) throw new UsageError('the two passphrases differ');
  }
  return typed;
}
