import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  createScratchDatabase,
  listOpenUploads,
  type ScratchDatabase,
  useTestBucket,
} from '@dataflow/testkit';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RatesServer, startRatesServer } from '../../../examples/shop/scripts/rates-server.js';

// Runs the Airflow DAG's task commands (one daily run; catchup is one such run per day), exactly
// as dataflow_tasks.py gives them to the BashOperators, with {{ ds }} filled in, in dependency
// order (mapped instances in parallel, as Airflow would), with the built CLI against the test
// PostgreSQL and S3 servers.
const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(root, 'apps/cli/dist/bin.js');
const SOURCES = ['customers', 'orders', 'payments', 'rates'];
/** A recognisable secret: it must reach the rates API and appear nowhere else. */
const RATES_TOKEN = `tok_${randomBytes(12).toString('hex')}`;

interface Step {
  task_id: string;
  mapped: boolean;
  commands: string[];
  upstream: string[];
}
interface TaskRun {
  task: string;
  command: string;
  code: number;
  summary: {
    run_id: string;
    status: string;
    exit_code: number;
    rows_loaded: number;
    models: number;
    tests: { pass: number; fail: number };
  };
  output: string;
}

async function dailyPlan(): Promise<Step[]> {
  const { stdout } = await promisify(execFile)('python3', [join(root, 'airflow/dags/dataflow_tasks.py')], {
    env: { PATH: process.env.PATH ?? '', PYTHONDONTWRITEBYTECODE: '1' },
  });
  return (JSON.parse(stdout) as { plan: Step[] }).plan;
}

/** Steps in dependency order (Kahn); throws on a cycle or an unknown upstream. */
function topological(steps: Step[]): Step[] {
  const done = new Set<string>();
  const ordered: Step[] = [];
  while (ordered.length < steps.length) {
    const ready = steps.filter((s) => !done.has(s.task_id) && s.upstream.every((u) => done.has(u)));
    if (ready.length === 0) throw new Error('plan has a cycle or an unknown upstream');
    for (const s of ready) {
      ordered.push(s);
      done.add(s.task_id);
    }
  }
  return ordered;
}

/** What a BashOperator does: `bash -c <command>` with the operator env appended to the worker's. */
function bash(
  command: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; output: string; lastLine: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => {
      const lines = stdout.trim().split('\n');
      resolve({ code: code ?? -1, output, lastLine: lines[lines.length - 1] ?? '' });
    });
  });
}

describe('Airflow DAG task commands against PostgreSQL + S3', () => {
  const s3 = useTestBucket();
  let project: string;
  let rates: RatesServer;
  let database: ScratchDatabase | undefined;
  let databaseUrl: string;
  let pool: pg.Pool;
  let env: NodeJS.ProcessEnv;
  let plan: Step[];

  const render = (command: string, ds: string) => command.replaceAll('{{ ds }}', ds);

  async function runTask(task: string, command: string, ds: string, tryNumber = 1): Promise<TaskRun> {
    const rendered = render(command, ds);
    const { code, output, lastLine } = await bash(rendered, {
      ...env,
      AIRFLOW_CTX_DAG_ID: 'dataflow_shop',
      AIRFLOW_CTX_TASK_ID: task,
      AIRFLOW_CTX_DAG_RUN_ID: `scheduled__${ds}T00:00:00+00:00`,
      AIRFLOW_CTX_TRY_NUMBER: String(tryNumber),
    });
    let summary: TaskRun['summary'];
    try {
      summary = JSON.parse(lastLine) as TaskRun['summary'];
    } catch {
      throw new Error(
        `${rendered}: last stdout line is not the JSON summary (exit ${code}):\n${output.slice(-3000)}`,
      );
    }
    return { task, command: rendered, code, summary, output };
  }

  /** One DAG run: every step in order, mapped instances concurrently. */
  async function dagRun(ds: string): Promise<TaskRun[]> {
    const runs: TaskRun[] = [];
    for (const step of topological(plan)) {
      const results = await Promise.all(step.commands.map((c) => runTask(step.task_id, c, ds)));
      for (const r of results) {
        if (r.code !== 0) throw new Error(`${r.command} exited ${r.code}:\n${r.output.slice(-3000)}`);
      }
      runs.push(...results);
    }
    return runs;
  }

  const count = async (relation: string) =>
    Number((await pool.query<{ n: string }>(`select count(*) as n from ${relation}`)).rows[0]?.n);

  beforeAll(async () => {
    if (!existsSync(bin))
      throw new Error(`${bin} is missing: run \`npm run build\` before the integration tests`);
    plan = await dailyPlan();
    project = await mkdtemp(join(tmpdir(), 'shop-dag-'));
    await cp(join(root, 'examples/shop'), project, {
      recursive: true,
      filter: (src) => !/[/\\](\.dataflow|target)$/.test(src),
    });
    rates = await startRatesServer({ port: 0, token: RATES_TOKEN });
    // A database of its own: the example uses fixed schema names (analytics, dataflow).
    database = await createScratchDatabase('shop_dag');
    pool = database.pool;
    databaseUrl = database.url;
    // No schema is created up front: the four mapped loads of the first DAG run create `analytics`
    // concurrently (regression: they raced on CREATE SCHEMA, SQLSTATE 23505).
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATAFLOW_CLI: `${process.execPath} ${bin}`,
      DATAFLOW_PROJECT_DIR: project,
      DATAFLOW_DATABASE_URL: databaseUrl,
      DATAFLOW_LAKE_URL: `s3://${s3.bucket}/${s3.prefix}lake/raw`,
      DATAFLOW_S3_ENDPOINT: s3.s3.endpoint,
      AWS_ACCESS_KEY_ID: s3.s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.s3.secretAccessKey,
      AWS_REGION: s3.s3.region,
      RATES_PORT: String(rates.port),
      RATES_TOKEN,
    };
  });

  afterAll(async () => {
    try {
      await rates?.close();
      await database?.drop();
    } finally {
      if (project) await rm(project, { recursive: true, force: true });
    }
  });

  it('one DAG run: every task exits 0, the lake and the warehouse hold the day, run_history the context', async () => {
    const day1 = await dagRun('2026-05-01');
    expect(day1.map((r) => r.task)).toEqual([
      ...SOURCES.map(() => 'ingest'),
      ...SOURCES.map(() => 'load'),
      'build',
    ]);
    for (const r of day1) expect(r.summary).toMatchObject({ status: 'success', exit_code: 0 });
    const loads = Object.fromEntries(
      day1
        .filter((r) => r.task === 'load')
        .map((r) => [/--source (\w+)/.exec(r.command)?.[1], r.summary.rows_loaded]),
    );
    // The committed demo data for 2026-05-01, and 8 currencies from the rates API.
    expect(loads).toEqual({ customers: 30, orders: 100, payments: 119, rates: 8 });
    const build = day1[day1.length - 1]?.summary;
    expect(build?.models).toBe(7 + 1); // and the customers snapshot
    expect(build?.tests).toMatchObject({ pass: 36, fail: 0 });

    expect(await count('analytics.raw_orders')).toBe(100);
    expect(await count('analytics.raw_payments')).toBe(119);
    expect(await count('analytics.raw_rates')).toBe(8);
    expect(await count('analytics.raw_customers')).toBe(30);
    expect(await count('analytics.stg_orders')).toBe(100);
    expect(await count('analytics.fct_orders')).toBe(100);
    expect(await count('analytics.dim_customers')).toBe(30);
    // build runs the snapshot after stg_customers: the first run holds one current row per customer.
    expect(await count('analytics.customers_snapshot where dbt_valid_to is null')).toBe(30);
    const revenue = await pool.query<{ order_date: string; orders: string; orders_without_rate: string }>(
      `select to_char(order_date, 'YYYY-MM-DD') as order_date, orders, orders_without_rate
         from analytics.fct_daily_revenue order by order_date`,
    );
    expect(revenue.rows).toEqual([{ order_date: '2026-05-01', orders: '100', orders_without_rate: '0' }]);

    // Each source's partition is committed in the S3 lake, and no multipart upload is left open.
    const listed = await s3.client.send(
      new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `${s3.prefix}lake/raw/` }),
    );
    const manifests = (listed.Contents ?? [])
      .map((o) => o.Key?.slice(`${s3.prefix}lake/raw/`.length) ?? '')
      .filter((k) => k.endsWith('/_manifest.json'))
      .sort();
    expect(manifests).toEqual(SOURCES.map((s) => `${s}/dt=2026-05-01/_manifest.json`));
    expect(await listOpenUploads(s3.client, s3.bucket, s3.prefix)).toEqual([]);

    // Every task left a run_history row carrying its Airflow context.
    const history = await pool.query<{ command: string; status: string; airflow_task_id: string; n: string }>(
      `select command, status, airflow_task_id, count(*) as n from dataflow.run_history
        where airflow_dag_id = 'dataflow_shop' group by 1, 2, 3 order by 1`,
    );
    expect(history.rows).toEqual([
      { command: 'build', status: 'success', airflow_task_id: 'build', n: '1' },
      { command: 'ingest', status: 'success', airflow_task_id: 'ingest', n: '4' },
      { command: 'load', status: 'success', airflow_task_id: 'load', n: '4' },
    ]);

    // The bearer token reached the API (8 rates landed) but no log line, summary or run row.
    expect(rates.requests.filter((r) => r.status === 200)).toHaveLength(3);
    for (const r of day1) expect(r.output).not.toContain(RATES_TOKEN);
    const leaked = await pool.query(
      `select count(*)::int as n from dataflow.run_history where run_history::text like '%' || $1 || '%'`,
      [RATES_TOKEN],
    );
    expect(leaked.rows[0]?.n).toBe(0);
  });

  it('an Airflow retry of a load and a build is idempotent', async () => {
    const before = await pool.query(
      'select order_id, amount, status from analytics.fct_orders order by order_id',
    );
    const load = plan.find((s) => s.task_id === 'load')?.commands.find((c) => c.includes('--source orders'));
    const build = plan.find((s) => s.task_id === 'build')?.commands[0];
    const retried = await runTask('load', load as string, '2026-05-01', 2);
    expect(retried.code).toBe(0);
    expect(retried.summary.rows_loaded).toBe(100);
    const context = await pool.query(
      `select airflow_dag_id, airflow_task_id, airflow_dag_run_id, airflow_try_number
         from dataflow.run_history where run_id = $1`,
      [retried.summary.run_id],
    );
    expect(context.rows).toEqual([
      {
        airflow_dag_id: 'dataflow_shop',
        airflow_task_id: 'load',
        airflow_dag_run_id: 'scheduled__2026-05-01T00:00:00+00:00',
        airflow_try_number: 2,
      },
    ]);
    expect((await runTask('build', build as string, '2026-05-01', 2)).code).toBe(0);
    expect(await count('analytics.raw_orders')).toBe(100);
    const after = await pool.query(
      'select order_id, amount, status from analytics.fct_orders order by order_id',
    );
    expect(after.rows).toEqual(before.rows);
  });

  it('backfill: dataflow run --start/--end runs each day in order, idempotently over a day already loaded', async () => {
    const snapshot = () =>
      pool.query(
        `select order_id, customer_id, amount, status, paid_amount from analytics.fct_orders
          where order_date = '2026-05-01' order by order_id`,
      );
    const before = await snapshot();
    const backfill = await bash(
      `$DATAFLOW_CLI run --project "$DATAFLOW_PROJECT_DIR" --start 2026-05-01 --end 2026-05-04`,
      env,
    );
    expect(backfill.code, backfill.output.slice(-3000)).toBe(0);
    expect(JSON.parse(backfill.lastLine)).toMatchObject({
      status: 'success',
      interval: { start: '2026-05-01', end: '2026-05-04' },
      rows_loaded: 30 + 34 + 38 + 300 + (119 + 123 + 118) + 24,
    });
    expect(await count('analytics.raw_orders')).toBe(300);
    expect(await count('analytics.raw_customers')).toBe(38); // day 1's older snapshot did not drop 31..38
    // Customers only arrived (none changed): one current version each, nothing closed.
    expect(await count('analytics.customers_snapshot')).toBe(38);
    expect(await count('analytics.customers_snapshot where dbt_valid_to is null')).toBe(38);
    expect(await count('analytics.fct_orders')).toBe(300);
    expect(before.rows).toHaveLength(100);
    expect((await snapshot()).rows).toEqual(before.rows);
    const days = await pool.query<{ d: string }>(
      `select to_char(order_date, 'YYYY-MM-DD') as d from analytics.fct_daily_revenue order by 1`,
    );
    expect(days.rows.map((r) => r.d)).toEqual(['2026-05-01', '2026-05-02', '2026-05-03']);
    // Days ran in order: each day's ingest jobs start after the previous day's.
    const order = await pool.query<{ partition: string }>(
      `select j.partition from dataflow.job_status j join dataflow.run_history r using (run_id)
        where r.command = 'run' and j.step = 'ingest' order by j.started_at, j.job_id`,
    );
    expect(order.rows.map((r) => r.partition)).toEqual(
      ['2026-05-01', '2026-05-02', '2026-05-03'].flatMap((d) => SOURCES.map(() => d)),
    );
  });

  it('a day with nothing committed exits 99, which the DAG maps to "skipped"', async () => {
    const load = plan.find((s) => s.task_id === 'load')?.commands.find((c) => c.includes('--source orders'));
    const skipped = await runTask('load', load as string, '2026-05-09');
    expect(skipped.code).toBe(99);
    expect(skipped.summary.status).toBe('skipped');
  });
  it('a bad status value fails the build with exit 3 (no retry needed) and leaves the marts as they were', async () => {
    const before = await pool.query('select order_id, status from analytics.fct_orders order by order_id');
    // Day 2026-05-04: a copy of day 3 with one order's status no one accepts.
    const orders = await readFile(join(project, 'data/orders/2026-05-03.csv'), 'utf8');
    const lines = orders.trimEnd().split('\n');
    const bad = (lines[1] ?? '').split(',');
    bad[0] = '900001';
    bad[3] = 'lost_in_transit';
    await writeFile(join(project, 'data/orders/2026-05-04.csv'), `${lines[0]}\n${bad.join(',')}\n`);
    const ingest = plan
      .find((s) => s.task_id === 'ingest')
      ?.commands.find((c) => c.includes('--source orders'));
    const load = plan.find((s) => s.task_id === 'load')?.commands.find((c) => c.includes('--source orders'));
    const build = plan.find((s) => s.task_id === 'build')?.commands[0];
    expect((await runTask('ingest', ingest as string, '2026-05-04')).code).toBe(0);
    expect((await runTask('load', load as string, '2026-05-04')).code).toBe(0);
    const failed = await runTask('build', build as string, '2026-05-04');
    expect(failed.code).toBe(3);
    expect(failed.summary).toMatchObject({ status: 'failed', exit_code: 3, tests: { fail: 1 } });
    const results = await pool.query<{ test: string; status: string; failures: string }>(
      `select test_name as test, status, failures from dataflow.test_results
        where run_id = $1 and status in ('fail', 'error')`,
      [failed.summary.run_id],
    );
    expect(results.rows).toEqual([
      {
        test: 'accepted_values_stg_orders_status__placed__shipped__completed__returned__return_pending',
        status: 'fail',
        failures: '1',
      },
    ]);
    // Write-audit-publish: stg_orders' audit failed, so its descendants kept their last version.
    expect(
      (await pool.query('select order_id, status from analytics.fct_orders order by order_id')).rows,
    ).toEqual(before.rows);
  });
});
