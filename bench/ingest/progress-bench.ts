/**
 * Cost of `onProgress` on ingest (not a test).
 *
 *   node --conditions=source --import tsx bench/ingest/progress-bench.ts [--mb 64] [--rounds 3]
 *
 * Generates a deterministic CSV of about `--mb` MB, then ingests it into the fs store (gzip off,
 * so the pipeline itself is what is timed) with and without an `onProgress` callback, rounds
 * alternating, for the byte scanner (no declared columns) and the csv-parse path (declared
 * columns). Prints the best MB/s of each and the with/without ratio (1.00 = free).
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createFsStore, dailyInterval, ingestCsv, type TransferProgress } from '@dataflow/ingest';

const { values } = parseArgs({ options: { mb: { type: 'string' }, rounds: { type: 'string' } } });
const mb = Number(values.mb ?? 64);
const rounds = Number(values.rounds ?? 3);
const dir = await mkdtemp(join(tmpdir(), 'progress-bench-'));
const file = join(dir, 'orders.csv');

async function generate(bytes: number): Promise<void> {
  const out = createWriteStream(file);
  out.write('order_id,customer_id,amount,status\n');
  let written = 0;
  for (let i = 0; written < bytes; i++) {
    let chunk = '';
    for (let j = 0; j < 1000; j++) chunk += `${i * 1000 + j},${(i * 7 + j) % 5000},${j % 997}.25,completed\n`;
    written += chunk.length;
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve) => out.end(() => resolve()));
}

async function once(withProgress: boolean, declared: boolean, round: number): Promise<number> {
  let calls = 0;
  const started = performance.now();
  await ingestCsv({
    source: `bench_${withProgress}_${declared}_${round}`,
    location: file,
    interval: dailyInterval('2026-05-01'),
    store: createFsStore({ root: join(dir, 'lake') }),
    options: { gzip: false, ...(declared ? { columns: { order_id: 'integer', amount: 'numeric' } } : {}) },
    ...(withProgress ? { onProgress: (_p: TransferProgress) => void calls++ } : {}),
  });
  return performance.now() - started;
}

try {
  await generate(mb * 1_000_000);
  const size = (await stat(file)).size;
  for (const declared of [false, true]) {
    const best = { with: Number.POSITIVE_INFINITY, without: Number.POSITIVE_INFINITY };
    for (let r = 0; r < rounds; r++) {
      best.without = Math.min(best.without, await once(false, declared, r));
      best.with = Math.min(best.with, await once(true, declared, r));
    }
    const rate = (ms: number) => (size / 1e6 / (ms / 1000)).toFixed(1);
    console.log(
      `${declared ? 'csv-parse path' : 'byte scanner '}  ${(size / 1e6).toFixed(0)} MB: without ${rate(best.without)} MB/s, with onProgress ${rate(best.with)} MB/s, ratio ${(best.without / best.with).toFixed(2)}`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
