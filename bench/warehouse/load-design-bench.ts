/**
 * The raw-layer design benchmark (issue 13), one PostgreSQL server, one run, paired medians:
 *
 * 1. Design matrix (in process, `loadPartition` of the library): the 2 M-row, 7-text-column,
 *    ~101 MB CSV ingested four ways (gzip level 1 / none × 64 MiB / 16 MiB parts), each loaded
 *    with COPY FREEZE on one connection (`parallel: 1`) and with parallel COPY (`parallel: 2`),
 *    against `psql \copy` of the CSV into a plain 7-column table in the same round. This is the
 *    measurement behind `chooseSwapCopyMode` and ingest's default part size.
 * 2. Whole process (Node start-up included): `dataflow load` of the partition `dataflow ingest`
 *    writes with its default settings, first load and re-load of the same day, against
 *    `psql \copy`, in wall seconds and (Linux, `/usr/bin/time`) in CPU seconds of client and
 *    server, the steadier number on a shared machine; dead rows after the re-loads.
 * 3. Bytes per row of the loaded table against the plain table.
 * 4. 30 consecutive days of `--day-rows` rows, then a re-load of day 1, each load paired with a
 *    `psql \copy` of the day: days 28-30 and the re-load against days 1-3, as ratios.
 * 5. `dataflow --version`, and `dataflow load` of a 1-row partition (the fixed cost of a load
 *    process), against `node -e 0`.
 *
 *   npm run build && node --conditions=source --import tsx bench/warehouse/load-design-bench.ts \
 *     [--rows 2000000] [--runs 5] [--days 30] [--day-rows 200000] [--skip-matrix]
 *
 * Uses DATAFLOW_TEST_DATABASE_URL when set, else starts embedded PostgreSQL. Needs psql on PATH.
 * Prints the load average at start and end: the machine may be shared.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createFsStore, ingestCsv } from '@dataflow/ingest';
import { startPostgresServer } from '@dataflow/testkit';
import { loadPartition } from '@dataflow/warehouse';
import pg from 'pg';
import { median } from '../stats.js';
import { COLUMNS, generateCsv } from './orders-csv.js';

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
const SKIP_MATRIX = process.argv.includes('--skip-matrix');
const CLI = resolve('apps/cli/dist/bin.js');
const MIB = 1024 * 1024;

async function seconds(body: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await body();
  return (performance.now() - t0) / 1000;
}

function day(n: number): string {
  return new Date(Date.UTC(2024, 0, 1) + (n - 1) * 86_400_000).toISOString().slice(0, 10);
}

function interval(n: number): { start: string; end: string } {
  return { start: day(n), end: day(n + 1) };
}

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

/** Paired per round: the median of each timing and of its ratio to the round's `base`. */
function pairedLine(
  label: string,
  rounds: Array<Record<string, number>>,
  key: string,
  base: string,
  unit = 's',
): string {
  const t = median(rounds.map((r) => r[key] as number));
  const ratio = median(rounds.map((r) => (r[key] as number) / (r[base] as number)));
  return `  ${label.padEnd(44)} ${t.toFixed(2)} ${unit}  ${ratio.toFixed(2)}×`;
}

interface Bench {
  work: string;
  pool: pg.Pool;
  bigCsv: string;
  databaseUrl: string;
  psql: (sql: string) => Promise<unknown>;
  dataflow: (args: string[]) => Promise<unknown>;
  /** CPU seconds of the server so far (postmaster, reaped and live children); undefined off Linux. */
  serverCpu: () => Promise<number | undefined>;
}

/**
 * CPU seconds of one whole process run through `/usr/bin/time` (its own and its children's) plus
 * the server's over the same span. On a shared machine wall time is mostly other people's work;
 * CPU seconds much less so, which makes this the steadier comparison of the same work.
 */
async function cpuOf(b: Bench, command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<number> {
  const out = join(b.work, 'time.txt');
  const server0 = await b.serverCpu();
  await run('/usr/bin/time', ['-o', out, '-f', '%U %S', command, ...args], {
    cwd: b.work,
    maxBuffer: 1 << 24,
    ...(env ? { env } : {}),
  });
  // A backend's CPU moves to the postmaster's cutime only once the postmaster has reaped it.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const server1 = await b.serverCpu();
  const [user, system] = (await readFile(out, 'utf8')).trim().split('\n').pop()?.split(' ').map(Number) ?? [];
  return (user ?? 0) + (system ?? 0) + ((server1 ?? 0) - (server0 ?? 0));
}

/** The server's CPU seconds, read from /proc through the postmaster of one of its backends. */
async function serverCpuReader(pool: pg.Pool): Promise<() => Promise<number | undefined>> {
  const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const fields = async (pid: number) => {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  };
  const postmaster = Number((await fields(rows[0]?.pid ?? 0))[1]);
  if (!postmaster) return async () => undefined;
  return async () => {
    const own = await fields(postmaster);
    // After the name: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14); ticks of 1/100 s.
    let ticks = [11, 12, 13, 14].reduce((n, i) => n + Number(own[i] ?? 0), 0);
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const f = await fields(Number(entry));
      if (Number(f[1]) === postmaster) ticks += Number(f[11] ?? 0) + Number(f[12] ?? 0);
    }
    return ticks / 100;
  };
}

const copySql = (b: Bench) => `\\copy bench_plain FROM '${b.bigCsv}' WITH (FORMAT csv, HEADER true)`;
const copyPlain = (b: Bench) => b.psql(copySql(b));

/**
 * 1. Ingest settings × COPY strategy, in process, each load paired with a `psql \copy` of the
 * same round.
 */
async function designMatrix(b: Bench): Promise<void> {
  const store = createFsStore({ root: join(b.work, 'matrix-lake') });
  const variants = [
    { name: 'gz1_64', gzip: true, partBytes: 64 * MIB },
    { name: 'gz1_16', gzip: true, partBytes: 16 * MIB },
    { name: 'raw_64', gzip: false, partBytes: 64 * MIB },
    { name: 'raw_16', gzip: false, partBytes: 16 * MIB },
  ];
  for (const v of variants) {
    const t = await seconds(() =>
      ingestCsv({
        source: v.name,
        location: b.bigCsv,
        interval: interval(1),
        store,
        runId: 'bench-ingest',
        options: { gzip: v.gzip, gzipLevel: 1, partBytes: v.partBytes },
      }).then((m) => {
        console.log(`  ingest ${v.name}: ${m.files.length} part(s), ${(m.bytes / 1e6).toFixed(1)} MB stored`);
      }),
    );
    console.log(`    (${t.toFixed(1)} s)`);
  }
  const rounds: Array<Record<string, number>> = [];
  for (let r = 1; r <= RUNS; r++) {
    const round: Record<string, number> = {};
    await b.pool.query('TRUNCATE bench_plain');
    round.psql = await seconds(() => copyPlain(b));
    for (const v of variants) {
      for (const parallel of [1, 2]) {
        round[`${v.name}/${parallel}`] = await seconds(() =>
          loadPartition(b.pool, {
            store,
            source: v.name,
            table: `m_${v.name}`,
            schema: 'bench',
            interval: interval(1),
            runId: `m${r}`,
            parallel,
          }),
        );
      }
    }
    rounds.push(round);
    console.log(
      `  round ${r}: ${Object.entries(round)
        .map(([k, x]) => `${k} ${x.toFixed(2)}`)
        .join(', ')}  (load avg ${load()})`,
    );
  }
  console.log(
    '\ndesign matrix, in process (no Node start-up), paired medians vs psql \\copy (whole process):',
  );
  console.log(pairedLine('psql \\copy into a plain table', rounds, 'psql', 'psql'));
  for (const v of variants) {
    console.log(pairedLine(`${v.name}, COPY FREEZE on 1 connection`, rounds, `${v.name}/1`, 'psql'));
    console.log(pairedLine(`${v.name}, parallel COPY on 2 connections`, rounds, `${v.name}/2`, 'psql'));
    const gain = median(rounds.map((x) => (x[`${v.name}/2`] as number) / (x[`${v.name}/1`] as number)));
    console.log(`    parallel / FREEZE ${gain.toFixed(2)}×`);
  }
}

/**
 * The same three whole processes again, measured in CPU seconds (see {@link cpuOf}): empty when
 * `/usr/bin/time` or /proc is missing.
 */
async function wholeProcessCpu(b: Bench): Promise<Record<string, number>> {
  if ((await b.serverCpu()) === undefined) return {};
  const env = { ...process.env, DATAFLOW_DATABASE_URL: b.databaseUrl, NO_COLOR: '1' };
  const load = ['load', '--source', 'big', '--date', day(1)];
  try {
    await b.pool.query('TRUNCATE bench_plain');
    const psqlCpu = await cpuOf(b, 'psql', [b.databaseUrl, '-v', 'ON_ERROR_STOP=1', '-q', '-c', copySql(b)]);
    await b.pool.query('DROP TABLE IF EXISTS bench.raw_big CASCADE');
    const firstCpu = await cpuOf(b, 'node', [CLI, ...load], env);
    const reloadCpu = await cpuOf(b, 'node', [CLI, ...load], env);
    return { psqlCpu, firstCpu, reloadCpu };
  } catch (error) {
    console.log(`  (no CPU measurement: ${(error as Error).message.split('\n')[0]})`);
    return {};
  }
}

/** 2 + 3. The CLI with ingest's defaults, first load and re-load, dead rows, bytes per row. */
async function wholeProcess(b: Bench): Promise<void> {
  await b.dataflow(['ingest', '--source', 'big', '--date', day(1)]);
  const manifest = JSON.parse(
    await readFile(join(b.work, 'lake', 'big', `dt=${day(1)}`, '_manifest.json'), 'utf8'),
  ) as { files: Array<{ bytes: number }>; compression: string };
  console.log(
    `\ningest defaults: ${manifest.files.length} part file(s), compression ${manifest.compression}, ` +
      `${(manifest.files.reduce((n, f) => n + f.bytes, 0) / 1e6).toFixed(1)} MB stored`,
  );
  const rounds: Array<Record<string, number>> = [];
  for (let r = 1; r <= RUNS; r++) {
    await b.pool.query('TRUNCATE bench_plain');
    const psql = await seconds(() => copyPlain(b));
    await b.pool.query('DROP TABLE IF EXISTS bench.raw_big CASCADE');
    const first = await seconds(() => b.dataflow(['load', '--source', 'big', '--date', day(1)]));
    const reload = await seconds(() => b.dataflow(['load', '--source', 'big', '--date', day(1)]));
    rounds.push({ psql, first, reload, ...(await wholeProcessCpu(b)) });
    console.log(
      `  round ${r}: psql \\copy ${psql.toFixed(2)} s, dataflow load (new table) ${first.toFixed(2)} s, ` +
        `re-load ${reload.toFixed(2)} s  (load avg ${load()})`,
    );
  }
  const { rows: counts } = await b.pool.query<{ n: string }>('SELECT count(*) AS n FROM bench.raw_big');
  if (Number(counts[0]?.n) !== ROWS) throw new Error(`raw_big holds ${counts[0]?.n} rows, expected ${ROWS}`);
  // Statistics reach pg_stat_* asynchronously: force them out first.
  await b.pool.query('SELECT pg_stat_force_next_flush()').catch(() => undefined);
  const { rows: dead } = await b.pool.query<{ dead: string; live: string }>(
    `SELECT coalesce(sum(n_dead_tup), 0) AS dead, coalesce(sum(n_live_tup), 0) AS live FROM pg_stat_user_tables
      WHERE relid = 'bench.raw_big'::regclass OR relid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'bench.raw_big'::regclass)`,
  );
  const { rows: size } = await b.pool.query<{
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
  const s = size[0] as { raw: string; plain: string; rawheap: string; plainheap: string };
  console.log('\nwhole process, paired medians (goal ≤ 1.00×):');
  console.log(pairedLine('psql \\copy into a plain table', rounds, 'psql', 'psql'));
  console.log(pairedLine('dataflow load, new table', rounds, 'first', 'psql'));
  console.log(pairedLine('dataflow load, re-load of the day', rounds, 'reload', 'psql'));
  if (rounds.every((r) => r.psqlCpu !== undefined)) {
    console.log('whole process in CPU seconds (client + server), paired medians:');
    console.log(pairedLine('psql \\copy into a plain table', rounds, 'psqlCpu', 'psqlCpu', 'CPU-s'));
    console.log(pairedLine('dataflow load, new table', rounds, 'firstCpu', 'psqlCpu', 'CPU-s'));
    console.log(pairedLine('dataflow load, re-load of the day', rounds, 'reloadCpu', 'psqlCpu', 'CPU-s'));
  }
  console.log(`dead rows after ${RUNS} re-loads: ${dead[0]?.dead} (live ${dead[0]?.live})`);
  console.log(
    `bytes per row: loaded ${(Number(s.raw) / ROWS).toFixed(1)} (heap ${(Number(s.rawheap) / ROWS).toFixed(1)}), ` +
      `plain 7-column table ${(Number(s.plain) / ROWS).toFixed(1)} (heap ${(Number(s.plainheap) / ROWS).toFixed(1)}): ` +
      `${(Number(s.raw) / Number(s.plain)).toFixed(3)}× (goal ≤ 1.2×)`,
  );
}

/**
 * 4. Day-by-day loads, then day 1 again. Each load is paired with a `psql \copy` of the same
 * day's CSV into a plain table just before it, so a machine whose load drifts over the run
 * compares ratios, not raw seconds.
 */
async function history(b: Bench, dayCsv: string): Promise<void> {
  const copyDay = async () => {
    await b.pool.query('TRUNCATE bench_day_plain');
    return seconds(() => b.psql(`\\copy bench_day_plain FROM '${dayCsv}' WITH (FORMAT csv, HEADER true)`));
  };
  const pairedLoad = async (d: number) => {
    const psql = await copyDay();
    const load = await seconds(() => b.dataflow(['load', '--source', 'daily', '--date', day(d)]));
    return { psql, load, ratio: load / psql };
  };
  await b.pool.query('CREATE TABLE IF NOT EXISTS bench_day_plain (LIKE bench_plain)');
  for (let d = 1; d <= DAYS; d++) await b.dataflow(['ingest', '--source', 'daily', '--date', day(d)]);
  const days: Array<{ psql: number; load: number; ratio: number }> = [];
  for (let d = 1; d <= DAYS; d++) days.push(await pairedLoad(d));
  const reloads: Array<{ psql: number; load: number; ratio: number }> = [];
  for (let r = 0; r < 3; r++) reloads.push(await pairedLoad(1));
  const head = median(days.slice(0, 3).map((x) => x.ratio));
  const tail = median(days.slice(-3).map((x) => x.ratio));
  const again = median(reloads.map((x) => x.ratio));
  console.log(
    `\n${DAYS} days of ${DAY_ROWS} rows (load avg ${load()}), dataflow load / psql \\copy of the day per day:`,
  );
  console.log(`  ${days.map((x) => `${x.load.toFixed(2)}/${x.psql.toFixed(2)}`).join(' ')}`);
  console.log(
    `  re-loads of day 1: ${reloads.map((x) => `${x.load.toFixed(2)}/${x.psql.toFixed(2)}`).join(' ')}`,
  );
  console.log(
    `  days 1-3 ${head.toFixed(2)}× psql, days ${DAYS - 2}-${DAYS} ${tail.toFixed(2)}× (${(tail / head).toFixed(2)} of days 1-3), ` +
      `re-load of day 1 ${again.toFixed(2)}× (${(again / head).toFixed(2)} of days 1-3) (goal within 10 %)`,
  );
}

/**
 * 5. Start-up: `dataflow --version` against `node -e 0`, paired; and the fixed cost of a whole
 * `dataflow load` process (a 1-row partition), which every load pays on top of its COPY.
 */
async function startUp(b: Bench): Promise<void> {
  await b.dataflow(['ingest', '--source', 'tiny', '--date', day(1)]);
  const rounds: Array<Record<string, number>> = [];
  for (let r = 0; r < Math.max(RUNS, 5) * 2; r++) {
    const node = await seconds(() => run('node', ['-e', '0']));
    const version = await seconds(() => b.dataflow(['--version']));
    const tiny = await seconds(() => b.dataflow(['load', '--source', 'tiny', '--date', day(1)]));
    rounds.push({ node, version, tiny });
  }
  console.log('\nstart-up, paired medians (goal ≤ 3×):');
  console.log(pairedLine('node -e 0', rounds, 'node', 'node'));
  console.log(pairedLine('dataflow --version', rounds, 'version', 'node'));
  console.log(pairedLine('dataflow load of a 1-row partition', rounds, 'tiny', 'node'));
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'load-design-bench-'));
  const ownPg = process.env.DATAFLOW_TEST_DATABASE_URL ? undefined : await startPostgresServer();
  const databaseUrl = process.env.DATAFLOW_TEST_DATABASE_URL ?? (ownPg?.url as string);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  pool.on('error', (error) => console.error('idle client error', error.message));
  const env = { ...process.env, DATAFLOW_DATABASE_URL: databaseUrl, NO_COLOR: '1' };
  const b: Bench = {
    work,
    pool,
    bigCsv: join(work, 'big.csv'),
    databaseUrl,
    serverCpu: await serverCpuReader(pool),
    psql: (sql) => run('psql', [databaseUrl, '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql]),
    dataflow: (args) => run('node', [CLI, ...args], { cwd: work, env, maxBuffer: 1 << 24 }),
  };
  try {
    await mkdir(join(work, 'data', 'big'), { recursive: true });
    await mkdir(join(work, 'data', 'daily'), { recursive: true });
    const dayCsv = join(work, 'day.csv');
    await mkdir(join(work, 'data', 'tiny'), { recursive: true });
    await writeFile(
      join(work, 'data', 'tiny', `${day(1)}.csv`),
      `${COLUMNS.join(',')}\n1,c,s,x,y,1,2024-01-01\n`,
    );
    await generateCsv(b.bigCsv, ROWS);
    await generateCsv(dayCsv, DAY_ROWS);
    await symlink(b.bigCsv, join(work, 'data', 'big', `${day(1)}.csv`));
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
        '  tiny:\n    type: csv\n    location: data/tiny/{{ ds }}.csv',
        '',
      ].join('\n'),
    );
    const bytes = (await stat(b.bigCsv)).size;
    const { stdout: psqlVersion } = await run('psql', ['--version']);
    const { rows: server } = await pool.query<{ v: string }>('SELECT version() AS v');
    console.log(
      `rows=${ROWS} csv=${(bytes / 1e6).toFixed(1)} MB runs=${RUNS}; days=${DAYS}×${DAY_ROWS} rows`,
    );
    console.log(
      `server: ${server[0]?.v.split(',')[0]}; client: ${psqlVersion.trim()}; node ${process.version}; ` +
        `cores ${availableParallelism()}; load avg ${load()}`,
    );
    await pool.query(
      `CREATE TABLE IF NOT EXISTS bench_plain (${COLUMNS.map((c) => `${c} text`).join(', ')})`,
    );
    await pool.query('CREATE SCHEMA IF NOT EXISTS bench');
    if (!SKIP_MATRIX) await designMatrix(b);
    await wholeProcess(b);
    await history(b, dayCsv);
    await startUp(b);
    console.log(`\nload avg at the end ${load()}`);
  } finally {
    await pool.end();
    await ownPg?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
