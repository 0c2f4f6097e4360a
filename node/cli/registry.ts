/**
 * Finds the commands: every `commands/*.ts` file (tests aside) default-exports a Command or
 * an array of them. A command is looked for first in the file named after its first word
 * (`contacts import` in `commands/contacts.ts`), so one command loads only its own modules
 * and a broken file elsewhere does not stop it; only the overview loads every file.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from './command.ts';

const COMMANDS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'commands');

function isCommand(value: unknown): value is Command {
  const c = value as Partial<Command> | null;
  return typeof c?.name === 'string' && typeof c.run === 'function';
}

async function loadFile(file: string): Promise<Command[]> {
  const mod = (await import(pathToFileURL(join(COMMANDS_DIR, file)).href)) as {
    default?: unknown;
  };
  const exported = Array.isArray(mod.default) ? (mod.default as unknown[]) : [mod.default];
  if (!exported.every(isCommand)) throw new Error(`commands/${file}: no command as default export`);
  return exported;
}

/** Every command that loads, sorted by name, and the files that failed to load, with why. */
export async function loadCommands(): Promise<{ commands: Command[]; broken: string[] }> {
  const files = readdirSync(COMMANDS_DIR)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .sort();
  const byName = new Map<string, Command>();
  const broken: string[] = [];
  for (const file of files) {
    try {
      for (const command of await loadFile(file)) {
        if (byName.has(command.name)) throw new Error(`${command.name} is defined twice`);
        byName.set(command.name, command);
      }
    } catch (error) {
      broken.push(`commands/${file}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const commands = [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  return { commands, broken };
}

/**
 * The command named by the leading words of `words` (the longest match), and how many words
 * its name took; undefined when none matches.
 */
export function findCommand(
  commands: readonly Command[],
  words: readonly string[],
): { command: Command; taken: number } | undefined {
  for (let n = Math.min(words.length, 3); n > 0; n--) {
    const name = words.slice(0, n).join(' ');
    const command = commands.find((c) => c.name === name);
    if (command) return { command, taken: n };
  }
  return undefined;
}

/**
 * Finds the command for `words`: in the file named after the first word, else in all files.
 *
 * @throws Error when the file named after the first word fails to load
 */
export async function resolveCommand(
  words: readonly string[],
): Promise<{ command: Command; taken: number } | undefined> {
  const first = words[0];
  if (first && /^[a-z][a-z-]*$/.test(first) && existsSync(join(COMMANDS_DIR, `${first}.ts`))) {
    const found = findCommand(await loadFile(`${first}.ts`), words);
    if (found) return found;
  }
  if (words.length === 0) return undefined;
  return findCommand((await loadCommands()).commands, words);
}
