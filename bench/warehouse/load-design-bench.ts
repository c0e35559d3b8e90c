/**
 * The raw-layer design benchmark (issue 13), whole process, one PostgreSQL server, one run:
 *
 * 1. `dataflow load` (the built CLI, Node start-up included) of a 2 M-row, 7-text-column,
 *    ~101 MB CSV partition written by `dataflow ingest` with its default settings, against
 *    `psql \copy` of the same CSV into a plain 7-column table: first load and re-load of the
 *    same day, paired per round, medians of the ratios; dead rows after the re-loads.
 * 2. Bytes per row of the loaded table against the plain table.
 * 3. 30 consecutive days of `--day-rows` rows, then a re-load of day 1: day 30 and the re-load
 *    against day 1.
 *
 *   npm run build && node --conditions=source --import tsx bench/warehouse/load-design-bench.ts \
 *     [--rows 2000000] [--runs 5] [--days 30] [--day-rows 200000]
 *
 * Uses DATAFLOW_TEST_DATABASE_URL when set, else starts embedded PostgreSQL. Needs psql on PATH.
 */
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { startPostgresServer } from '@dataflow/testkit';
import pg from 'pg';

const run = promisify(execFile);

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

const ROWS = arg('rows', 2_000_000);
const RUNS = arg('runs', 5);
const DAYS = arg('days', 30);
const DAY_ROWS = arg('day-rows', 200_000);
const CLI = resolve('apps/cli/dist/bin.js');
const COLUMNS = ['order_id', 'customer', 'status', 'city', 'sku', 'amount', 'ordered_at'];
const STATUSES = ['completed', 'shipped', 'placed', 'returned', 'pending'];
const CITIES = ['Lyon', 'Porto', 'Oslo', 'Riga', 'Turin', 'Ghent', 'Cork'];

/** 7 text columns, ~50 bytes a row (2 M rows ≈ 100 MB), streamed to disk. */
async function generateCsv(path: string, rows: number): Promise<void> {
  async function* lines() {
    yield `${COLUMNS.join(',')}\n`;
    let batch = '';
    for (let i = 1; i <= rows; i++) {
      const ts = `2024-01-${String((i % 28) + 1).padStart(2, '0')}`;
      batch += `${i},c${(i * 7919) % 100_000},${STATUSES[i % 5]},${CITIES[i % 7]},s${i % 997},${((i * 31) % 10_000) / 100},${ts}\n`;
      if (batch.length > 1 << 16) {
        yield batch;
        batch = '';
      }
    }
    yield batch;
  }
  await pipeline(Readable.from(lines()), createWriteStream(path));
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

async function seconds(body: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await body();
  return (performance.now() - t0) / 1000;
}

function day(n: number): string {
  return new Date(Date.UTC(2024, 0, 1) + (n - 1) * 86_400_000).toISOString().slice(0, 10);
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'load-design-bench-'));
  const ownPg = process.env.DATAFLOW_TEST_DATABASE_URL ? undefined : await startPostgresServer();
  const databaseUrl = process.env.DATAFLOW_TEST_DATABASE_URL ?? (ownPg?.url as string);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  pool.on('error', (error) => console.error('idle client error', error.message));
  const env = { ...process.env, DATAFLOW_DATABASE_URL: databaseUrl, NO_COLOR: '1' };
  const dataflow = (args: string[]) => run('node', [CLI, ...args], { cwd: work, env, maxBuffer: 1 << 24 });
  const psql = (sql: string) => run('psql', [databaseUrl, '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql]);
  try {
    await mkdir(join(work, 'data', 'big'), { recursive: true });
    await mkdir(join(work, 'data', 'daily'), { recursive: true });
    const bigCsv = join(work, 'big.csv');
    const dayCsv = join(work, 'day.csv');
    await generateCsv(bigCsv, ROWS);
    await generateCsv(dayCsv, DAY_ROWS);
    await symlink(bigCsv, join(work, 'data', 'big', `${day(1)}.csv`));
    for (let d = 1; d <= DAYS; d++) await symlink(dayCsv, join(work, 'data', 'daily', `${day(d)}.csv`));
    // Default ingest settings: no gzip / part size keys, so whatever `dataflow ingest` defaults to.
    await writeFile(
      join(work, 'dataflow.yml'),
      [
        'name: bench',
        'warehouse:',
        '  schema: bench',
        `lake:\n  url: file://${join(work, 'lake')}`,
        'sources:',
        '  big:\n    type: csv\n    location: data/big/{{ ds }}.csv',
        '  daily:\n    type: csv\n    location: data/daily/{{ ds }}.csv',
        '',
      ].join('\n'),
    );
    const bytes = (await stat(bigCsv)).size;
    const { stdout: psqlVersion } = await run('psql', ['--version']);
    const { rows: server } = await pool.query<{ v: string }>('SELECT version() AS v');
    console.log(
      `rows=${ROWS} csv=${(bytes / 1e6).toFixed(1)} MB runs=${RUNS}; days=${DAYS}×${DAY_ROWS} rows`,
    );
    console.log(
      `server: ${server[0]?.v.split(',')[0]}; client: ${psqlVersion.trim()}; node ${process.version}`,
    );

    await dataflow(['ingest', '--source', 'big', '--date', day(1)]);
    const manifest = JSON.parse(
      await readFile(join(work, 'lake', 'big', `dt=${day(1)}`, '_manifest.json'), 'utf8'),
    ) as { files: Array<{ bytes: number }>; compression: string };
    console.log(
      `ingest defaults: ${manifest.files.length} part file(s), compression ${manifest.compression}, ` +
        `${(manifest.files.reduce((n, f) => n + f.bytes, 0) / 1e6).toFixed(1)} MB stored`,
    );

    // 1. First load and re-load against psql \copy, paired per round.
    const plain = `CREATE TABLE IF NOT EXISTS bench_plain (${COLUMNS.map((c) => `${c} text`).join(', ')})`;
    await pool.query(plain);
    const rounds: Array<{ psql: number; first: number; reload: number }> = [];
    for (let r = 1; r <= RUNS; r++) {
      await pool.query('TRUNCATE bench_plain');
      const base = await seconds(() =>
        psql(`\\copy bench_plain FROM '${bigCsv}' WITH (FORMAT csv, HEADER true)`),
      );
      await pool.query('DROP TABLE IF EXISTS bench.raw_big CASCADE');
      const first = await seconds(() => dataflow(['load', '--source', 'big', '--date', day(1)]));
      const reload = await seconds(() => dataflow(['load', '--source', 'big', '--date', day(1)]));
      rounds.push({ psql: base, first, reload });
      console.log(
        `  round ${r}: psql \\copy ${base.toFixed(2)} s, dataflow load (new table) ${first.toFixed(2)} s, re-load ${reload.toFixed(2)} s`,
      );
    }
    const { rows: counts } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM bench.raw_big');
    if (Number(counts[0]?.n) !== ROWS)
      throw new Error(`raw_big holds ${counts[0]?.n} rows, expected ${ROWS}`);
    const { rows: dead } = await pool.query<{ dead: string; live: string }>(
      `SELECT coalesce(sum(n_dead_tup), 0) AS dead, coalesce(sum(n_live_tup), 0) AS live FROM pg_stat_user_tables
        WHERE relid = 'bench.raw_big'::regclass OR relid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'bench.raw_big'::regclass)`,
    );
    const { rows: size } = await pool.query<{
      raw: string;
      plain: string;
      rawheap: string;
      plainheap: string;
    }>(
      `SELECT (SELECT sum(pg_table_size(inhrelid)) FROM pg_inherits WHERE inhparent = 'bench.raw_big'::regclass) AS raw,
              pg_table_size('bench_plain') AS plain,
              (SELECT sum(pg_relation_size(inhrelid)) FROM pg_inherits WHERE inhparent = 'bench.raw_big'::regclass) AS rawheap,
              pg_relation_size('bench_plain') AS plainheap`,
    );
    const ratio = (key: 'first' | 'reload') => median(rounds.map((x) => x[key] / x.psql));
    const s = size[0] as { raw: string; plain: string; rawheap: string; plainheap: string };
    console.log('\nwhole process, paired medians (goal ≤ 1.00×):');
    console.log(`  psql \\copy into a plain table     ${median(rounds.map((x) => x.psql)).toFixed(2)} s`);
    console.log(
      `  dataflow load, new table           ${median(rounds.map((x) => x.first)).toFixed(2)} s  ${ratio('first').toFixed(2)}×`,
    );
    console.log(
      `  dataflow load, re-load of the day  ${median(rounds.map((x) => x.reload)).toFixed(2)} s  ${ratio('reload').toFixed(2)}×`,
    );
    console.log(`dead rows after ${RUNS} re-loads: ${dead[0]?.dead} (live ${dead[0]?.live})`);
    console.log(
      `bytes per row: loaded ${(Number(s.raw) / ROWS).toFixed(1)} (heap ${(Number(s.rawheap) / ROWS).toFixed(1)}), ` +
        `plain 7-column table ${(Number(s.plain) / ROWS).toFixed(1)} (heap ${(Number(s.plainheap) / ROWS).toFixed(1)}): ` +
        `${(Number(s.raw) / Number(s.plain)).toFixed(3)}× (goal ≤ 1.2×)`,
    );

    // Would parallel COPY pay here? Two concurrent \copy of half the rows on two connections
    // against one \copy of all of them, into the same plain table (the best case for
    // parallelism: no Node, no gunzip). Day partitions use FREEZE on one connection instead.
    const halfCsv = join(work, 'half.csv');
    await generateCsv(halfCsv, Math.floor(ROWS / 2));
    const copyInto = (file: string) =>
      psql(`\\copy bench_plain FROM '${file}' WITH (FORMAT csv, HEADER true)`);
    const parallelRounds: Array<{ one: number; two: number }> = [];
    for (let r = 1; r <= RUNS; r++) {
      await pool.query('TRUNCATE bench_plain');
      const one = await seconds(() => copyInto(bigCsv));
      await pool.query('TRUNCATE bench_plain');
      const two = await seconds(() => Promise.all([copyInto(halfCsv), copyInto(halfCsv)]));
      parallelRounds.push({ one, two });
    }
    console.log(
      `parallel COPY potential: 1 connection ${median(parallelRounds.map((x) => x.one)).toFixed(2)} s, ` +
        `2 connections × half ${median(parallelRounds.map((x) => x.two)).toFixed(2)} s ` +
        `(${median(parallelRounds.map((x) => x.two / x.one)).toFixed(2)}×)`,
    );

    // 3. History: day-by-day loads, then day 1 again.
    const days: number[] = [];
    for (let d = 1; d <= DAYS; d++) await dataflow(['ingest', '--source', 'daily', '--date', day(d)]);
    for (let d = 1; d <= DAYS; d++) {
      days.push(await seconds(() => dataflow(['load', '--source', 'daily', '--date', day(d)])));
    }
    const reloads: number[] = [];
    for (let r = 0; r < 3; r++) {
      reloads.push(await seconds(() => dataflow(['load', '--source', 'daily', '--date', day(1)])));
    }
    const d1 = days[0] as number;
    const head = median(days.slice(0, 3));
    const tail = median(days.slice(-3));
    console.log(`\n${DAYS} days of ${DAY_ROWS} rows: ${days.map((x) => x.toFixed(2)).join(' ')}`);
    console.log(
      `  day 1 ${d1.toFixed(2)} s, day ${DAYS} ${(days[DAYS - 1] as number).toFixed(2)} s (${((days[DAYS - 1] as number) / d1).toFixed(2)}×), ` +
        `re-load of day 1 ${reloads.map((x) => x.toFixed(2)).join(' / ')} s (median ${(median(reloads) / d1).toFixed(2)}×)`,
    );
    console.log(
      `  median of days 1-3 ${head.toFixed(2)} s, days ${DAYS - 2}-${DAYS} ${tail.toFixed(2)} s (${(tail / head).toFixed(2)}×), ` +
        `re-load ${(median(reloads) / head).toFixed(2)}× (goal within 10 %)`,
    );
  } finally {
    await pool.end();
    await ownPg?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
