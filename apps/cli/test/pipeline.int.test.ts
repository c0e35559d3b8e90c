import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { listOpenUploads, testServices, useTestBucket, useTestDatabase } from '@dataflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, tempProject } from './helpers.js';
import { startHttpServer, type TestHttpServer } from './servers.js';

const D = '2026-05-01';
const ORDERS = `order_id,customer_id,ordered_at,status,amount
1001,1,${D},completed,19.90
1002,2,${D},completed,5.00
1003,1,${D},shipped,42.50
1004,3,${D},cancelled,12.00
1005,4,${D},placed,7.25
`;
// Day with a duplicate order id: the unique test on stg_orders fails, fct_daily_revenue is skipped.
const D_DUP = '2026-05-03';
const ORDERS_DUP = `order_id,customer_id,ordered_at,status,amount
2001,1,${D_DUP},completed,1.00
2001,2,${D_DUP},completed,2.00
`;
const D_BAD = '2026-05-04';
const ORDERS_BAD = `order_id,customer_id,ordered_at,status,amount
3001,1,${D_BAD},completed
`;

const RATES_TOKEN = `tok-${randomBytes(8).toString('hex')}`;
const DB_PASSWORD = `pw-${randomBytes(8).toString('hex')}`;

describe('dataflow run against the test PostgreSQL and S3 servers', () => {
  const db = useTestDatabase();
  const s3 = useTestBucket();
  const role = `df_${randomBytes(4).toString('hex')}`;
  let api: TestHttpServer;
  let dir: string;
  let env: Record<string, string>;
  const meta = () => `${db.schema}_meta`;

  beforeAll(async () => {
    // A login role with a strong password, so the secret-leak assertions are meaningful.
    await db.pool.query(`create role ${role} login superuser password '${DB_PASSWORD}'`);
    api = await startHttpServer((req, res) => {
      if (req.headers.authorization !== `Bearer ${RATES_TOKEN}`) {
        res.writeHead(401).end('{"error":"unauthorized"}');
        return;
      }
      const url = new URL(req.url ?? '/', 'http://x');
      const day = url.searchParams.get('day');
      const cursor = url.searchParams.get('cursor');
      const body =
        cursor === null
          ? {
              data: [
                { currency: 'EUR', day, rate: 1.1 },
                { currency: 'GBP', day, rate: 0.85 },
              ],
              meta: { next_cursor: 'p2' },
            }
          : { data: [{ currency: 'JPY', day, rate: 160.5 }], meta: { next_cursor: null } };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    const dbUrl = new URL(testServices().databaseUrl);
    dbUrl.username = role;
    dbUrl.password = DB_PASSWORD;
    env = {
      DATABASE_URL: dbUrl.toString(),
      RATES_TOKEN,
      S3_KEY: s3.s3.accessKeyId,
      S3_SECRET: s3.s3.secretAccessKey,
    };
    dir = await tempProject({
      'dataflow.yml': `name: shop
warehouse:
  url: \${DATABASE_URL}
  schema: ${db.schema}
metadata:
  schema: ${meta()}
lake:
  url: s3://${s3.bucket}/${s3.prefix}lake
  endpoint: ${s3.s3.endpoint}
  region: ${s3.s3.region}
  access_key_id: \${S3_KEY}
  secret_access_key: \${S3_SECRET}
sources:
  orders:
    type: csv
    location: data/orders/{{ ds }}.csv
    primary_key: [order_id]
    disposition: replace_partition
    columns: { order_id: integer, customer_id: integer, ordered_at: date, status: text, amount: numeric }
  rates:
    type: api
    url: ${api.url}/v1/rates
    params: { day: "{{ ds }}" }
    records: data
    paginate: { type: cursor, cursor_path: meta.next_cursor, cursor_param: cursor }
    auth: { type: bearer, token: "\${RATES_TOKEN}" }
    disposition: replace_partition
`,
      [`data/orders/${D}.csv`]: ORDERS,
      [`data/orders/${D_DUP}.csv`]: ORDERS_DUP,
      [`data/orders/${D_BAD}.csv`]: ORDERS_BAD,
      'models/staging/stg_orders.sql': `{{ config(materialized='view') }}
select order_id, customer_id, ordered_at, lower(status) as status, amount
from {{ source('raw', 'orders') }}
`,
      'models/staging/stg_rates.sql': `{{ config(materialized='view') }}
select currency, day::date as day, rate::numeric as rate from {{ ref('raw_rates') }}
`,
      'models/marts/fct_daily_revenue.sql': `{{ config(materialized='table') }}
select ordered_at as order_date, count(*) as orders, sum(amount) as revenue
from {{ ref('stg_orders') }}
where status <> 'cancelled'
group by ordered_at
`,
      'models/schema.yml': `version: 2
models:
  - name: stg_orders
    columns:
      - name: order_id
        data_tests: [not_null, unique]
  - name: stg_rates
    columns:
      - name: currency
        data_tests: [not_null]
  - name: fct_daily_revenue
    columns:
      - name: order_date
        data_tests: [not_null]
`,
    });
  });

  afterAll(async () => {
    await api?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    await db.pool.query(`drop schema if exists "${meta()}" cascade`);
    await db.pool.query(`drop schema if exists "${db.schema}" cascade`);
    await db.pool.query(`drop owned by ${role} cascade`).catch(() => undefined);
    await db.pool.query(`drop role if exists ${role}`);
  });

  const runRow = async (runId: unknown) =>
    (await db.pool.query(`select * from "${meta()}".run_history where run_id = $1`, [runId])).rows[0];
  const jobs = async (runId: unknown) =>
    (
      await db.pool.query<{
        step: string;
        target: string;
        partition: string | null;
        status: string;
        rows_out: string | null;
      }>(
        `select step, target, partition, status, rows_out from "${meta()}".job_status where run_id = $1 order by job_id`,
        [runId],
      )
    ).rows;
  const table = async (sql: string) => (await db.pool.query(sql)).rows;

  it('run --date lands files, loads raw_*, builds models, runs tests and records the run', async () => {
    const r = await cli(['run', '--date', D], { cwd: dir, env });
    expect(r.stderr).not.toContain('"level":"error"');
    expect(r.code).toBe(0);
    // The LAST stdout line is the Airflow summary.
    expect(r.summary).toMatchObject({
      command: 'run',
      status: 'success',
      exit_code: 0,
      rows_in: 8,
      rows_loaded: 8,
      rows_rejected: 0,
      models: 3,
      tests: { pass: 4, warn: 0, fail: 0, error: 0, skipped: 0 },
      interval: { start: D, end: '2026-05-02' },
    });
    // Lake: committed partitions under the test prefix.
    const listed = await s3.client.send(
      new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `${s3.prefix}lake/` }),
    );
    const keys = (listed.Contents ?? []).map((o) => (o.Key ?? '').slice(`${s3.prefix}lake/`.length));
    for (const source of ['orders', 'rates']) {
      expect(keys).toContain(`${source}/dt=${D}/_manifest.json`);
      expect(keys).toContain(`${source}/dt=${D}/_SUCCESS`);
    }
    // Warehouse: raw tables, views and the mart.
    expect(
      await table(`select order_id, status, amount::text from "${db.schema}".raw_orders order by order_id`),
    ).toEqual([
      { order_id: 1001, status: 'completed', amount: '19.90' },
      { order_id: 1002, status: 'completed', amount: '5.00' },
      { order_id: 1003, status: 'shipped', amount: '42.50' },
      { order_id: 1004, status: 'cancelled', amount: '12.00' },
      { order_id: 1005, status: 'placed', amount: '7.25' },
    ]);
    expect(await table(`select currency, rate from "${db.schema}".stg_rates order by currency`)).toEqual([
      { currency: 'EUR', rate: '1.1' },
      { currency: 'GBP', rate: '0.85' },
      { currency: 'JPY', rate: '160.5' },
    ]);
    expect(
      await table(
        `select order_date::text, orders::int, revenue::text from "${db.schema}".fct_daily_revenue`,
      ),
    ).toEqual([{ order_date: D, orders: 4, revenue: '74.65' }]);
    // API source: two pages, bearer token sent.
    expect(
      api.requests
        .filter((q) => q.url.startsWith('/v1/rates'))
        .map((q) => new URL(q.url, 'http://x').searchParams.get('cursor')),
    ).toEqual([null, 'p2']);
    // Run log: one run row with counts, one job row per step.
    const run = await runRow(r.summary?.run_id);
    expect(run).toMatchObject({
      command: 'run',
      status: 'success',
      exit_code: 0,
      rows_in: '8',
      rows_out: '8',
      rows_rejected: '0',
    });
    expect(run.ended_at).not.toBeNull();
    const steps = await jobs(r.summary?.run_id);
    expect(steps.filter((j) => j.step === 'ingest' || j.step === 'load')).toEqual([
      { step: 'ingest', target: 'orders', partition: D, status: 'success', rows_out: '5' },
      { step: 'ingest', target: 'rates', partition: D, status: 'success', rows_out: '3' },
      { step: 'load', target: 'orders', partition: D, status: 'success', rows_out: '5' },
      { step: 'load', target: 'rates', partition: D, status: 'success', rows_out: '3' },
    ]);
    expect(
      steps
        .filter((j) => j.step === 'model')
        .map((j) => [j.target, j.status])
        .sort(),
    ).toEqual([
      ['fct_daily_revenue', 'success'],
      ['stg_orders', 'success'],
      ['stg_rates', 'success'],
    ]);
    expect(steps.filter((j) => j.step === 'test').every((j) => j.status === 'success')).toBe(true);
    expect(steps.filter((j) => j.step === 'test')).toHaveLength(4);
    const counts = await table(
      `select dataset, stage, rows::int from "${meta()}".row_counts where run_id = '${r.summary?.run_id}' and stage in ('ingested','loaded') order by dataset, stage`,
    );
    expect(counts).toEqual([
      { dataset: 'orders', stage: 'ingested', rows: 5 },
      { dataset: 'orders', stage: 'loaded', rows: 5 },
      { dataset: 'rates', stage: 'ingested', rows: 3 },
      { dataset: 'rates', stage: 'loaded', rows: 3 },
    ]);
    const tests = await table(
      `select status, failures::int from "${meta()}".test_results where run_id = '${r.summary?.run_id}'`,
    );
    expect(tests).toHaveLength(4);
    expect(tests.every((t) => t.status === 'pass' && t.failures === 0)).toBe(true);
  });

  it('running again for the same date leaves identical tables', async () => {
    const snapshot = async () => ({
      raw: await table(
        `select order_id, customer_id, ordered_at::text, status, amount::text, _partition from "${db.schema}".raw_orders order by order_id`,
      ),
      rates: await table(`select * from "${db.schema}".stg_rates order by currency`),
      fct: await table(`select * from "${db.schema}".fct_daily_revenue order by order_date`),
    });
    const before = await snapshot();
    const r = await cli(['run', '--date', D], { cwd: dir, env });
    expect(r.code).toBe(0);
    expect(r.summary).toMatchObject({ status: 'success', rows_in: 8, rows_loaded: 8 });
    expect(await snapshot()).toEqual(before);
    expect(before.raw).toHaveLength(5);
  });

  it('load alone accounts its rows: rows_in = rows_loaded + rows_rejected in the summary and run history', async () => {
    const r = await cli(['load', '--date', D], { cwd: dir, env });
    expect(r.code).toBe(0);
    expect(r.summary).toMatchObject({ command: 'load', rows_in: 8, rows_loaded: 8, rows_rejected: 0 });
    const history = await db.pool.query<{ rows_in: string; rows_out: string; rows_rejected: string }>(
      `select rows_in::text, rows_out::text, rows_rejected::text from "${meta()}".run_history where run_id = $1`,
      [r.summary?.run_id],
    );
    expect(history.rows).toEqual([{ rows_in: '8', rows_out: '8', rows_rejected: '0' }]);
  });

  it('a failing data test exits 3, its descendants are skipped and the failure is recorded', async () => {
    const r = await cli(['run', '--date', D_DUP, '--source', 'orders'], { cwd: dir, env });
    expect(r.code).toBe(3);
    expect(r.summary).toMatchObject({ status: 'failed', exit_code: 3, error: { code: 'TESTS_FAILED' } });
    const steps = await jobs(r.summary?.run_id);
    expect(steps.find((j) => j.target === 'fct_daily_revenue')?.status).toBe('skipped');
    const failed = await table(
      `select test_name, status, failures::int, sample from "${meta()}".test_results where run_id = '${r.summary?.run_id}' and status = 'fail'`,
    );
    expect(failed).toHaveLength(1);
    expect(failed[0]?.test_name).toContain('unique');
    expect(failed[0]?.failures).toBe(1);
    expect(await runRow(r.summary?.run_id)).toMatchObject({
      status: 'failed',
      exit_code: 3,
      error_code: 'TESTS_FAILED',
    });
    // The published mart still holds the last good build (write-audit-publish).
    expect(await table(`select order_date::text from "${db.schema}".fct_daily_revenue`)).toEqual([
      { order_date: D },
    ]);

    // Fixing the file and re-running the day replaces the partition and goes green again.
    await writeFile(join(dir, `data/orders/${D_DUP}.csv`), ORDERS_DUP.replace('2001,2,', '2002,2,'));
    const fixed = await cli(['run', '--date', D_DUP, '--source', 'orders'], { cwd: dir, env });
    expect(fixed.code).toBe(0);
    expect(await table(`select order_date::text from "${db.schema}".fct_daily_revenue order by 1`)).toEqual([
      { order_date: D },
      { order_date: D_DUP },
    ]);
  });

  it('a malformed CSV exits 4 (bad input, not retryable) and records the failed step', async () => {
    const r = await cli(['ingest', '--date', D_BAD, '--source', 'orders'], { cwd: dir, env });
    expect(r.code).toBe(4);
    expect(r.summary).toMatchObject({ status: 'failed', exit_code: 4, error: { code: 'BAD_ROW' } });
    const steps = await jobs(r.summary?.run_id);
    expect(steps).toEqual([
      { step: 'ingest', target: 'orders', partition: D_BAD, status: 'failed', rows_out: null },
    ]);
  });

  it('load with no committed partition exits 99 (skip); an unknown --source exits 2 and is not a run', async () => {
    const load = await cli(['load', '--date', '2026-06-30'], { cwd: dir, env });
    expect(load.code).toBe(99);
    expect(load.summary).toMatchObject({ status: 'skipped', exit_code: 99 });
    expect((await jobs(load.summary?.run_id)).map((j) => [j.target, j.status])).toEqual([
      ['orders', 'skipped'],
      ['rates', 'skipped'],
    ]);
    const none = await cli(['ingest', '--date', D, '--source', 'ordres'], { cwd: dir, env });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("did you mean 'orders'?");
    // A typo is not a skipped Airflow task: it fails before a run is recorded, summary line included.
    expect(none.summary).toMatchObject({ status: 'failed', exit_code: 2 });
    expect(await runRow(none.summary?.run_id)).toBeUndefined();
  });

  it('a missing source file for the date is a retryable runtime failure (exit 1)', async () => {
    const r = await cli(['ingest', '--date', '2026-07-01', '--source', 'orders'], { cwd: dir, env });
    expect(r.code).toBe(1);
    expect(r.summary).toMatchObject({ status: 'failed', exit_code: 1, error: { code: 'NOT_FOUND' } });
  });

  it('runs --json lists the recorded runs newest first; --run shows one run with its steps', async () => {
    const r = await cli(['runs', '--json', '--limit', '3'], { cwd: dir, env });
    expect(r.code).toBe(0);
    const runs = JSON.parse(r.stdout) as Array<{
      run_id: string;
      command: string;
      status: string;
      exit_code: number;
    }>;
    expect(runs.map((x) => [x.command, x.status, x.exit_code])).toEqual([
      ['ingest', 'failed', 1],
      ['load', 'skipped', 99],
      ['ingest', 'failed', 4],
    ]);
    const first = runs[0]?.run_id ?? '';
    const one = await cli(['runs', '--run', first, '--json'], { cwd: dir, env });
    expect(one.code).toBe(0);
    const detail = JSON.parse(one.stdout) as {
      run_id: string;
      jobs: Array<{ step: string; target: string; status: string }>;
    };
    expect(detail.run_id).toBe(first);
    expect(detail.jobs.map((j) => [j.step, j.target, j.status])).toEqual([['ingest', 'orders', 'failed']]);
    const table = await cli(['runs', '--limit', '1'], { cwd: dir, env });
    expect(table.stdout.split('\n')[0]).toMatch(/^RUN ID\s+COMMAND\s+STATUS\s+EXIT\s+INTERVAL/);
    expect(table.stdout).toContain(first);
  });

  it("runs --run shows a build's steps in execution order with full test names", async () => {
    const r = await cli(['build', '--date', D, '--select', 'stg_orders'], { cwd: dir, env });
    expect(r.code).toBe(0);
    const shown = await cli(['runs', '--run', String(r.summary?.run_id)], { cwd: dir, env });
    expect(shown.code).toBe(0);
    const stored = await table(
      `select step, target from "${meta()}".job_status where run_id = '${r.summary?.run_id}' order by started_at, job_id`,
    );
    const listed = shown.stdout
      .split('\n')
      .filter((l) => /^(model|test|seed) /.test(l))
      .map((l) => l.split(/\s+/).slice(0, 2));
    expect(listed).toEqual(stored.map((j) => [j.step, j.target]));
    // The model is built before its tests run; every name is printed whole (formatJobsTable's unit
    // test covers names over the old 40-character cut).
    expect(listed[0]).toEqual(['model', 'stg_orders']);
    expect(listed.length).toBeGreaterThan(1);
  });

  it('--select "stg_orders,tag:nope" is an intersection: 0 models built, a warning, exit 0', async () => {
    const r = await cli(['build', '--date', D, '--select', 'stg_orders,tag:nope'], { cwd: dir, env });
    expect(r.code).toBe(0);
    expect(r.summary).toMatchObject({ status: 'success', models: 0, tests: { pass: 0 } });
    expect(r.stderr).toContain('the selection matches no node; nothing to build');
    expect(await jobs(r.summary?.run_id)).toEqual([]);
    // Spaces and repeated flags are unions.
    const union = await cli(['build', '--date', D, '--select', 'stg_orders stg_rates'], { cwd: dir, env });
    expect(union.summary).toMatchObject({ models: 2 });
  });

  it('an empty --source runs every source (an Airflow template that rendered empty)', async () => {
    const r = await cli(['ingest', '--date', D, '--source', ''], { cwd: dir, env });
    expect(r.code).toBe(0);
    expect((await jobs(r.summary?.run_id)).map((j) => j.target)).toEqual(['orders', 'rates']);
  });

  it('every JSON log line is snake_case (one casing with the summary line)', async () => {
    const r = await cli(['run', '--date', D, '--log-level', 'debug'], { cwd: dir, env });
    expect(r.code).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      const camel = JSON.stringify(Object.keys(parsed)).match(/"[a-z]+[A-Z]\w*"/);
      expect(camel, line).toBeNull();
    }
  });

  it('a wrong password or a missing bucket is configuration (exit 2), not a retry', async () => {
    const wrong = new URL(env.DATABASE_URL ?? '');
    wrong.password = 'not-the-password';
    const auth = await cli(['build'], { cwd: dir, env: { ...env, DATABASE_URL: wrong.toString() } });
    expect(auth.code).toBe(2);
    expect(auth.summary).toMatchObject({ status: 'failed', exit_code: 2 });
    expect(auth.stdout + auth.stderr).not.toContain('not-the-password');
    const bucket = await cli(['ingest', '--date', D, '--source', 'orders'], {
      cwd: dir,
      env: { ...env, DATAFLOW_LAKE_URL: `s3://no-such-bucket-${randomBytes(4).toString('hex')}/lake` },
    });
    expect(bucket.code, bucket.stderr).toBe(2);
    expect(bucket.summary).toMatchObject({ status: 'failed', exit_code: 2 });
    const creds = await cli(['ingest', '--date', D, '--source', 'orders'], {
      cwd: dir,
      env: { ...env, S3_KEY: 'AKIAUNKNOWNKEY000000' },
    });
    expect(creds.code, creds.stderr).toBe(2);
  });

  it('secrets from config and env never appear in stdout, stderr or the run log', async () => {
    const r = await cli(['run', '--date', D, '--log-level', 'debug'], {
      cwd: dir,
      env: { ...env, AIRFLOW_CTX_DAG_ID: 'shop', AIRFLOW_CTX_TASK_ID: 'run', AIRFLOW_CTX_TRY_NUMBER: '1' },
    });
    expect(r.code).toBe(0);
    const output = r.stdout + r.stderr;
    expect(output.length).toBeGreaterThan(1000);
    for (const secret of [RATES_TOKEN, DB_PASSWORD, env.DATABASE_URL ?? '']) {
      expect(output).not.toContain(secret);
    }
    const stored = await table(`select row_to_json(h)::text as t from "${meta()}".run_history h`);
    const storedJobs = await table(`select row_to_json(j)::text as t from "${meta()}".job_status j`);
    for (const { t } of [...stored, ...storedJobs]) {
      expect(t).not.toContain(RATES_TOKEN);
      expect(t).not.toContain(DB_PASSWORD);
    }
    expect(await runRow(r.summary?.run_id)).toMatchObject({
      airflow_dag_id: 'shop',
      airflow_task_id: 'run',
      airflow_try_number: 1,
    });
  });

  it('--start/--end runs each day in order', async () => {
    await writeFile(
      join(dir, 'data/orders/2026-05-02.csv'),
      `order_id,customer_id,ordered_at,status,amount\n1101,9,2026-05-02,completed,3.00\n`,
    );
    const r = await cli(
      ['run', '--start', D, '--end', '2026-05-03', '--source', 'orders', '--select', 'stg_orders'],
      {
        cwd: dir,
        env,
      },
    );
    expect(r.code).toBe(0);
    const steps = await jobs(r.summary?.run_id);
    expect(
      steps.filter((j) => j.step !== 'test' && j.step !== 'model').map((j) => `${j.step}:${j.partition}`),
    ).toEqual([`ingest:${D}`, `load:${D}`, 'ingest:2026-05-02', 'load:2026-05-02']);
    expect(await table(`select count(*)::int as n from "${db.schema}".raw_orders`)).toEqual([
      { n: 5 + 1 + 2 },
    ]);
    expect(r.summary).toMatchObject({ rows_in: 6, interval: { start: D, end: '2026-05-03' } });
    // `runs` shows every day of the range, not only the first.
    const listed = await cli(['runs', '--limit', '1'], { cwd: dir, env });
    expect(listed.stdout).toContain(`${D}..2026-05-02 (2 days)`);
  });

  it('a dbt-style directory (dbt_project.yml, no dataflow.yml) builds seeds, models and tests', async () => {
    const dbt = await tempProject({
      'dbt_project.yml': 'name: mini\nversion: "1.0"\nprofile: mini\n',
      'seeds/raw_customers.csv': 'id,first_name\n1,Ann\n2,Bo\n3,Cy\n',
      'models/customers.sql': "select id, upper(first_name) as name from {{ ref('raw_customers') }}\n",
      'models/schema.yml':
        'version: 2\nmodels:\n  - name: customers\n    columns:\n      - name: id\n        data_tests: [unique, not_null]\n',
    });
    try {
      const r = await cli(['build', '--target-schema', `${db.schema}_dbt`], {
        cwd: dbt,
        env: { DATAFLOW_DATABASE_URL: env.DATABASE_URL ?? '' },
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.summary).toMatchObject({ command: 'build', status: 'success', models: 1, tests: { pass: 2 } });
      expect(await table(`select id::int, name from "${db.schema}_dbt".customers order by id`)).toEqual([
        { id: 1, name: 'ANN' },
        { id: 2, name: 'BO' },
        { id: 3, name: 'CY' },
      ]);
      expect(r.stdout + r.stderr).not.toContain(DB_PASSWORD);
    } finally {
      await rm(dbt, { recursive: true, force: true });
      await db.pool.query(`drop schema if exists "${db.schema}_dbt" cascade`);
    }
  });

  it('leaves no open multipart upload behind', async () => {
    expect(await listOpenUploads(s3.client, s3.bucket, s3.prefix)).toEqual([]);
  });
});
