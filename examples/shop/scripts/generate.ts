/**
 * Deterministic, streaming generator for the shop example's CSV sources.
 *
 *   tsx examples/shop/scripts/generate.ts --rows 1000000 --date 2026-05-01 --days 1 --out /tmp/shop/data
 *
 * Writes `<out>/{customers,orders,payments}/<day>.csv` for each day. `--rows` is the total number of
 * orders (split evenly over the days); payments are 1–3 per order; customers is a daily full
 * snapshot (about rows / 8 customers). Rows are produced by async generators in ~64 KiB chunks and
 * written with `pipeline()`, so memory stays flat at any size. Each file is written to a temp
 * name and renamed when complete: an interrupted run never leaves a truncated `<day>.csv`.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  CSV_HEADERS,
  csvLine,
  customerAt,
  customersUntil,
  dayList,
  orderAt,
  ordersOfDay,
  parseDay,
  type ShopDataOptions,
} from './shop-data.js';

const CHUNK_BYTES = 64 * 1024;

/** What one generated file holds. */
export interface GeneratedFile {
  source: 'customers' | 'orders' | 'payments';
  day: string;
  path: string;
  rows: number;
}

export interface GenerateOptions extends ShopDataOptions {
  /** Output directory (`data/` of a project). */
  out: string;
  signal?: AbortSignal;
}

/** Batches lines into chunks of at least 64 KiB. */
async function* chunked(lines: Iterable<string>, counter: { rows: number }): AsyncGenerator<string> {
  let buffer = '';
  for (const line of lines) {
    buffer += line;
    counter.rows++;
    if (buffer.length >= CHUNK_BYTES) {
      yield buffer;
      buffer = '';
    }
  }
  if (buffer.length > 0) yield buffer;
}

function* customerLines(options: ShopDataOptions, dayIndex: number): Generator<string> {
  const count = customersUntil(options, dayIndex);
  for (let id = 1; id <= count; id++) {
    const c = customerAt(options, id);
    yield csvLine([c.customer_id, c.first_name, c.last_name, c.email, c.country, c.created_at]);
  }
}

function* orderLines(options: ShopDataOptions, dayIndex: number): Generator<string> {
  const { count } = ordersOfDay(options, dayIndex);
  for (let i = 0; i < count; i++) {
    const o = orderAt(options, dayIndex, i, count);
    yield csvLine([o.order_id, o.customer_id, o.ordered_at, o.status, o.currency, o.amount]);
  }
}

function* paymentLines(options: ShopDataOptions, dayIndex: number): Generator<string> {
  const { count } = ordersOfDay(options, dayIndex);
  for (let i = 0; i < count; i++) {
    for (const p of orderAt(options, dayIndex, i, count).payments) {
      yield csvLine([p.payment_id, p.order_id, p.method, p.amount, p.paid_at]);
    }
  }
}

async function writeCsv(
  path: string,
  header: readonly string[],
  lines: Iterable<string>,
  signal?: AbortSignal,
): Promise<number> {
  const counter = { rows: 0 };
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await pipeline(
      async function* () {
        yield csvLine([...header]);
        yield* chunked(lines, counter);
      },
      createWriteStream(tmp),
      { signal },
    );
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
  return counter.rows;
}

/**
 * Generates every file for the options, one at a time, and returns what was written.
 *
 * @example
 * await generateShopData({ rows: 300, date: '2026-05-01', days: 3, seed: 42, out: 'examples/shop/data' });
 */
export async function generateShopData(options: GenerateOptions): Promise<GeneratedFile[]> {
  validate(options);
  const written: GeneratedFile[] = [];
  const days = dayList(options);
  for (const source of ['customers', 'orders', 'payments'] as const) {
    await mkdir(join(options.out, source), { recursive: true });
  }
  for (const [dayIndex, day] of days.entries()) {
    const jobs = [
      ['customers', customerLines(options, dayIndex)],
      ['orders', orderLines(options, dayIndex)],
      ['payments', paymentLines(options, dayIndex)],
    ] as const;
    for (const [source, lines] of jobs) {
      const path = join(options.out, source, `${day}.csv`);
      const rows = await writeCsv(path, CSV_HEADERS[source], lines, options.signal);
      written.push({ source, day, path, rows });
    }
  }
  return written;
}

function validate(options: ShopDataOptions): void {
  parseDay(options.date);
  if (!Number.isInteger(options.rows) || options.rows < 1)
    throw new RangeError('--rows must be a positive integer');
  if (!Number.isInteger(options.days) || options.days < 1)
    throw new RangeError('--days must be a positive integer');
  if (!Number.isInteger(options.seed)) throw new RangeError('--seed must be an integer');
}

/** Parses the command line (`--rows --date --days --out --seed`). */
export function parseGenerateArgs(argv: string[]): GenerateOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      rows: { type: 'string', default: '300' },
      date: { type: 'string', default: '2026-05-01' },
      days: { type: 'string', default: '1' },
      out: { type: 'string', default: 'data' },
      seed: { type: 'string', default: '42' },
    },
    strict: true,
  });
  const options = {
    rows: Number(values.rows),
    date: values.date,
    days: Number(values.days),
    seed: Number(values.seed),
    out: resolve(values.out),
  };
  validate(options);
  return options;
}

async function main(): Promise<void> {
  let options: GenerateOptions;
  try {
    options = parseGenerateArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`generate: ${(error as Error).message}\n`);
    process.exitCode = 4;
    return;
  }
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  const started = performance.now();
  const files = await generateShopData({ ...options, signal: controller.signal });
  for (const f of files) process.stdout.write(`${f.source}\t${f.day}\t${f.rows}\t${f.path}\n`);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(`generated ${files.length} files in ${seconds}s\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`generate: ${(error as Error).message}\n`);
    process.exitCode = 1;
  });
}
