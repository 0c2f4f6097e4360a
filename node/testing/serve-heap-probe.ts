/**
 * Test helper: runs `certsync serve ARGS` in this process and answers every line on standard
 * input with `heap BYTES` on standard error, the heap in use right after a full garbage
 * collection. It shows whether a long-lived serve grows with the peers it has served. Start
 * it with `node --expose-gc --import tsx`.
 */
import { createInterface } from 'node:readline';
import { main } from '../cli/main.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('serve-heap-probe needs node --expose-gc');
const lines = createInterface({ input: process.stdin });
lines.on('line', () => {
  gc();
  process.stderr.write(`heap ${process.memoryUsage().heapUsed}\n`);
});
process.exitCode = await main(['serve', ...process.argv.slice(2)]);
lines.close();
