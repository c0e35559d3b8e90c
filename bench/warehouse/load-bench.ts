/**
 * Warehouse load benchmark: the same ~100 MB CSV loaded into the same PostgreSQL server by
 * `psql \copy` (baseline), by `loadPartition` from a filesystem lake and from an S3 lake
 * (uncompressed and gzip part files), and by pgloader when installed.
 *
 *   node --conditions=source --import tsx bench/warehouse/load-bench.ts --rows 2000000 [--runs 3] [--parts 4] [--parallel 3]
 *
 * Uses DATAFLOW_TEST_DATABASE_URL when set, else starts embedded PostgreSQL; always starts s3rver.
 */
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createFsStore, createS3Store, ingestCsv, type ObjectStore } from '@dataflow/ingest';
import { createTestS3Client, startPostgresServer, startS3Server } from '@dataflow/testkit';
import { loadPartition } from '@dataflow/warehouse';
import pg from 'pg';
import { median } from '../stats.js';

const run = promisify(execFile);

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

const ROWS = arg('rows', 2_000_000);
const RUNS = arg('runs', 3);
const PARTS = arg('parts', 4);
const PARALLEL = arg('parallel', 3);
const DS = '2024-01-01';
const INTERVAL = { start: DS, end: '2024-01-02' };
const COLUMNS = ['id', 'customer_id', 'amount', 'status', 'created_at'];
const TYPES: Record<string, string> = {
  id: 'bigint',
  customer_id: 'integer',
  amount: 'numeric(12,2)',
  status: 'text',
  created_at: 'timestamp',
};
const STATUSES = ['completed', 'shipped', 'placed', 'returned', 'return_pending'];

/** Streams the CSV to disk with backpressure (never held in memory). */
async function generateCsv(path: string, rows: number): Promise<void> {
  async function* lines() {
    yield `${COLUMNS.join(',')}\n`;
    let batch = '';
    for (let i = 1; i <= rows; i++) {
      const ts = new Date(Date.UTC(2024, 0, 1) + (i % 86_400) * 1000)
        .toISOString()
        .slice(0, 19)
        .replace('T', ' ');
      batch += `${i},${(i * 7919) % 1_000_000},${((i * 31) % 100_000) / 100},${STATUSES[i % 5]},${ts}\n`;
      if (batch.length > 1 << 16) {
        yield batch;
        batch = '';
      }
    }
    yield batch;
  }
  await pipeline(Readable.from(lines()), createWriteStream(path));
}

async function timed(
  runs: number,
  before: () => Promise<void>,
  body: () => Promise<void>,
): Promise<number[]> {
  const out: number[] = [];
  for (let r = 0; r < runs; r++) {
    await before();
    const t0 = performance.now();
    await body();
    out.push((performance.now() - t0) / 1000);
  }
  return out;
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'warehouse-bench-'));
  const ownPg = process.env.DATAFLOW_TEST_DATABASE_URL ? undefined : await startPostgresServer();
  const databaseUrl = process.env.DATAFLOW_TEST_DATABASE_URL ?? (ownPg?.url as string);
  const s3server = await startS3Server({ bucket: 'bench' });
  const s3client = createTestS3Client(s3server);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: PARALLEL + 2 });
  pool.on('error', (error) => console.error('idle client error', error.message));
  try {
    const csvPath = join(work, 'orders.csv');
    await generateCsv(csvPath, ROWS);
    const bytes = (await stat(csvPath)).size;
    console.log(
      `rows=${ROWS} csv=${(bytes / 1e6).toFixed(1)} MB runs=${RUNS} parts≈${PARTS} parallel=${PARALLEL}`,
    );
    const { stdout: version } = await run('psql', ['--version']).catch(() => ({ stdout: '' }));
    const { rows: server } = await pool.query<{ v: string }>('SELECT version() AS v');
    console.log(`server: ${server[0]?.v.split(',')[0]}; client: ${version.trim() || 'psql not found'}`);

    // Lakes, written once before timing: several part files, plain and gzip, fs and S3.
    const fsStore = createFsStore({ root: join(work, 'lake') });
    const s3Store = createS3Store({ bucket: 'bench', prefix: 'lake', client: s3client });
    const partBytes = Math.ceil(bytes / PARTS);
    const lakes: Array<{ name: string; store: ObjectStore; source: string; mode: 'direct' | 'staging' }> = [];
    for (const [storeName, store] of [
      ['fs', fsStore],
      ['s3', s3Store],
    ] as const) {
      for (const gzip of [false, true]) {
        const source = `orders${gzip ? '_gz' : ''}`;
        const t0 = performance.now();
        const m = await ingestCsv({
          source,
          location: csvPath,
          interval: INTERVAL,
          store,
          options: { gzip, partBytes },
        });
        console.log(
          `  lake ${storeName}/${source}: ${m.files.length} files, ${(m.bytes / 1e6).toFixed(1)} MB, written in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
        );
        lakes.push({
          name: `loadPartition ${storeName} ${gzip ? 'gzip' : 'plain'}`,
          store,
          source,
          mode: 'direct',
        });
      }
    }

    const ddl = (table: string) =>
      `CREATE TABLE ${table} (${COLUMNS.map((c) => `${c} ${TYPES[c]}`).join(', ')})`;
    // Every scenario runs once per round, rounds repeated: on a shared machine, load spikes then
    // hit all scenarios alike instead of whichever happened to run during them.
    interface Scenario {
      name: string;
      before(): Promise<void>;
      body(): Promise<void>;
      check(): Promise<void>;
    }
    const scenarios: Scenario[] = [];
    const countIs = async (table: string, what: string, where = 'true') => {
      const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE ${where}`);
      if (Number(rows[0]?.n) !== ROWS) throw new Error(`${what} loaded ${rows[0]?.n} rows, expected ${ROWS}`);
    };

    const psqlAvailable = version.trim() !== '';
    // Two baselines: the bare typed table a user would \copy into, and the very table shape
    // loadPartition writes (metadata columns with their defaults, BRIN index on _partition)
    // filled with the same metadata values.
    // loadPartition's layout (day partitions, constants as defaults) has no psql equivalent:
    // the baseline is the bare typed table a user would \copy into.
    await pool.query(`DROP TABLE IF EXISTS bench_psql; ${ddl('bench_psql')}`);
    if (psqlAvailable) {
      for (const [name, table, columns, settings] of [
        ['psql \\copy, bare table (baseline)', 'bench_psql', '', [] as string[]],
      ] as const) {
        scenarios.push({
          name,
          before: async () => {
            await pool.query(`TRUNCATE ${table}`);
          },
          body: async () => {
            await run('psql', [
              databaseUrl,
              '-v',
              'ON_ERROR_STOP=1',
              '-q',
              ...settings.flatMap((sql) => ['-c', sql]),
              '-c',
              `\\copy ${table}${columns} FROM '${csvPath}' WITH (FORMAT csv, HEADER true)`,
            ]);
          },
          check: () => countIs(table, name, settings.length > 0 ? '_source_file IS NOT NULL' : 'true'),
        });
      }
    } else {
      console.log('psql not found: no baseline');
    }

    for (const lake of lakes) {
      const table = `bench_${lake.name.replace(/\W+/g, '_').toLowerCase()}`;
      await pool.query(`DROP TABLE IF EXISTS ${table}`);
      scenarios.push({
        name: lake.name,
        before: async () => {
          await pool.query(`TRUNCATE ${table}`).catch(() => undefined);
        },
        body: async () => {
          const result = await loadPartition(pool, {
            store: lake.store,
            source: lake.source,
            table,
            interval: INTERVAL,
            runId: 'bench',
            columns: TYPES,
            parallel: PARALLEL,
            mode: lake.mode,
          });
          if (result.rowsLoaded !== ROWS) throw new Error(`${lake.name}: loaded ${result.rowsLoaded} rows`);
        },
        check: () => countIs(table, lake.name, '_load_id IS NOT NULL'),
      });
    }

    const pgloader = await run('pgloader', ['--version']).then(
      (r) => r.stdout.split('\n')[0],
      () => undefined,
    );
    if (pgloader) {
      await pool.query(`DROP TABLE IF EXISTS bench_pgloader; ${ddl('bench_pgloader')}`);
      const u = new URL(databaseUrl);
      const load = join(work, 'bench.load');
      await writeFile(
        load,
        `LOAD CSV FROM '${csvPath}' (${COLUMNS.join(', ')})
  INTO postgresql://${u.username}:${u.password}@${u.hostname}:${u.port}${u.pathname}
  TARGET TABLE bench_pgloader
  WITH skip header = 1, fields terminated by ',', fields optionally enclosed by '"', batch rows = 25000
;\n`,
      );
      scenarios.push({
        name: `pgloader ${pgloader.replace(/^pgloader version "?([^"]+)"?.*$/, '$1').trim()}`,
        before: async () => {
          await pool.query('TRUNCATE bench_pgloader');
        },
        body: async () => {
          await run('pgloader', ['--quiet', load], { maxBuffer: 1 << 24 });
        },
        check: () => countIs('bench_pgloader', 'pgloader'),
      });
    } else {
      console.log('pgloader: not installed (apt-get install -y pgloader) — no peer result');
    }

    const results = scenarios.map((sc) => ({ name: sc.name, runs: [] as number[] }));
    for (let round = 1; round <= RUNS; round++) {
      for (const [i, sc] of scenarios.entries()) {
        const [seconds] = await timed(1, sc.before, sc.body);
        await sc.check();
        results[i]?.runs.push(seconds as number);
        console.log(`  round ${round}: ${sc.name}: ${(seconds as number).toFixed(2)} s`);
      }
    }

    // Medians as asked; best-of too, because on a shared machine the fastest run is the one
    // least disturbed by other processes.
    const best = (xs: number[]) => Math.min(...xs);
    const base = psqlAvailable ? results[0]?.runs : undefined;
    const ratio = (x: number, of: number[] | undefined, f: (xs: number[]) => number) =>
      of ? `${(x / f(of)).toFixed(2)}×` : '-';
    console.log(
      `\n${'scenario'.padEnd(44)} ${'runs (s)'.padEnd(24)} ${'median'.padStart(7)} ${'best'.padStart(7)}  median vs psql  best vs psql`,
    );
    for (const r of results) {
      const m = median(r.runs);
      const b = best(r.runs);
      console.log(
        `${r.name.padEnd(44)} ${r.runs
          .map((x) => x.toFixed(2))
          .join(' / ')
          .padEnd(
            24,
          )} ${m.toFixed(2).padStart(6)}s ${b.toFixed(2).padStart(6)}s  ${ratio(m, base, median).padEnd(14)} ${ratio(b, base, best)}`,
      );
    }
  } finally {
    await pool.end();
    s3client.destroy();
    await s3server.stop();
    await ownPg?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
