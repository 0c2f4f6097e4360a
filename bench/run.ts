/**
 * `npm run bench [-- --quick] [-- NAME...]`: runs every `bench/*.bench.ts` in its own
 * process, one after the other so they do not compete for the two cores, and passes the
 * remaining arguments on. Each benchmark prints its own table and writes
 * `bench/out/NAME.json`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flags = args.filter((a) => a.startsWith('-'));
const names = args.filter((a) => !a.startsWith('-'));

const all = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .sort();
const chosen = names.length ? all.filter((f) => names.some((n) => f.startsWith(n))) : all;
if (chosen.length === 0) {
  console.error(`bench: no benchmark matches ${names.join(', ')}; have ${all.join(', ')}`);
  process.exit(2);
}

let failed = 0;
for (const file of chosen) {
  console.log(`\n## ${file.replace('.bench.ts', '')}\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, file), ...flags], {
    stdio: 'inherit',
  });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
