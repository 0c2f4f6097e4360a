/**
 * `certsync demo`: a PC and a phone on temporary stores sync over a real link on this
 * machine (serial ptys through socat, else the Bluetooth LE link model). See
 * node/demo/run-demo.ts for the steps. Needs openssl; leaves nothing behind.
 */
import { runDemo } from '../../demo/run-demo.ts';
import { UsageError, type Command } from '../command.ts';
import { stringOption } from '../arguments.ts';

function count(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 5000) {
    throw new UsageError(`--${name}: expected a number from 1 to 5000, got ${text}`);
  }
  return Number(text);
}

const demo: Command = {
  name: 'demo',
  summary: 'watch a PC and a phone pair, compare, transfer, overflow, check and sync',
  args: '',
  positionals: { min: 0, max: 0 },
  options: {
    contacts: { type: 'string', help: "N  certificates in the PC's store (default 300)" },
    capacity: { type: 'string', help: "N  the phone's capacity (default 12)" },
  },
  async run(ctx) {
    const report = await runDemo({
      contacts: count(stringOption(ctx, 'contacts'), 'contacts', 300),
      phoneCapacity: count(stringOption(ctx, 'capacity'), 'capacity', 12),
      say: (line) => {
        if (!ctx.json) ctx.writeStdout(`${line}\n`);
      },
      progress: !ctx.json && process.stderr.isTTY ? process.stderr : null,
    });
    return { text: '', json: report };
  },
};

export default demo;
