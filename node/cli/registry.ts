/**
 * Finds the commands: every `commands/*.ts` file (tests aside) default-exports a Command or
 * an array of them.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from './command.ts';

const COMMANDS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'commands');

function isCommand(value: unknown): value is Command {
  const c = value as Partial<Command> | null;
  return typeof c?.name === 'string' && typeof c.run === 'function';
}

/**
 * Every command, sorted by name.
 *
 * @throws Error when a command file exports no command or two files claim one name
 */
export async function loadCommands(): Promise<Command[]> {
  const files = readdirSync(COMMANDS_DIR)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .sort();
  const byName = new Map<string, Command>();
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(COMMANDS_DIR, file)).href)) as {
      default?: unknown;
    };
    const exported = Array.isArray(mod.default) ? (mod.default as unknown[]) : [mod.default];
    if (!exported.every(isCommand))
      throw new Error(`commands/${file}: no command as default export`);
    for (const command of exported) {
      if (byName.has(command.name)) throw new Error(`commands/${file}: ${command.name} twice`);
      byName.set(command.name, command);
    }
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
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
