/**
 * Typed-column CSV ingest benchmark: generates `order_id,customer_id,ordered_at,status,amount`
 * (int, int, date, text, numeric) and ingests it into an fs store with those declared columns.
 *
 *   node --conditions=source --import tsx bench/ingest/typed-bench.ts [--rows 3000000] [--parser auto|csv-parse]
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createFsStore, dailyInterval, ingestCsv } from '@dataflow/ingest';

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '3000000' }, parser: { type: 'string', default: 'auto' } },
});
const rows = Number(values.rows);
const parser = values.parser === 'csv-parse' ? 'csv-parse' : 'auto';

const dir = await mkdtemp(join(tmpdir(), 'typed-bench-'));
const file = join(tmpdir(), `typed-bench-${rows}.csv`);
if (!existsSync(file)) {
  const statuses = ['placed', 'shipped', 'completed', 'returned', 'return_pending'];
  const chunks: string[] = ['order_id,customer_id,ordered_at,status,amount\n'];
  for (let i = 1; i <= rows; i++) {
    const day = new Date(Date.UTC(2018, 0, 1) + (i % 2000) * 86_400_000).toISOString().slice(0, 10);
    chunks.push(`${i},${(i * 7919) % 100_000},${day},${statuses[i % 5]},${((i * 37) % 100_000) / 100}\n`);
  }
  await writeFile(file, chunks.join(''));
}
const bytes = (await stat(file)).size;
const store = createFsStore({ root: join(dir, 'lake') });
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const manifest = await ingestCsv({
  source: 'orders',
  location: file,
  interval: dailyInterval('2024-01-01'),
  store,
  options: {
    parser,
    gzip: false,
    columns: {
      order_id: 'integer',
      customer_id: 'integer',
      ordered_at: 'date',
      status: 'text',
      amount: 'numeric',
    },
  },
});
const wall = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const cpuS = (cpu.user + cpu.system) / 1e6;
const mb = bytes / 1e6;
console.log(
  `parser=${parser} rows=${manifest.rows} input=${mb.toFixed(1)} MB wall=${wall.toFixed(2)} s ` +
    `(${(mb / wall).toFixed(1)} MB/s) cpu=${cpuS.toFixed(2)} s (${(mb / cpuS).toFixed(1)} MB/CPU-s)`,
);
await rm(dir, { recursive: true, force: true });
