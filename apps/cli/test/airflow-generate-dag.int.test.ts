import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createScratchDatabase, type ScratchDatabase, useTestBucket } from '@dataflow/testkit';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RatesServer, startRatesServer } from '../../../examples/shop/scripts/rates-server.js';
import { type Inspected, inspectDag, topological } from './airflow-generate-stub.js';
import { cli } from './helpers.js';

// Runs every task of the committed per-model DAG (airflow/dags/dataflow_shop_models.py) for one
// day, in dependency order, against the test PostgreSQL and S3 servers. bash expands each
// BashOperator command exactly as on a worker (DATAFLOW_CLI is `printf` here, so bash prints the
// argv it would run); that argv then runs through the CLI in-process (no build of dist/ needed).
const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const run = promisify(execFile);
const DS = '2026-05-01';

interface Summary {
  status: string;
  exit_code: number;
  models: number;
  rows_loaded: number;
  tests: { pass: number; warn: number; fail: number; error: number; skipped: number };
}

describe('the per-model shop DAG against PostgreSQL + S3', () => {
  const s3 = useTestBucket();
  let work: string;
  let project: string;
  let rates: RatesServer;
  let database: ScratchDatabase | undefined;
  let pool: pg.Pool;
  let env: Record<string, string>;
  let dag: Inspected;
  const savedEnv: Record<string, string | undefined> = {};

  /** The argv bash would give the CLI for a task's command, `{{ ds }}` rendered. */
  async function argvOf(command: string): Promise<string[]> {
    const { stdout } = await run('bash', ['-c', command.replaceAll('{{ ds }}', DS)], {
      env: { PATH: process.env.PATH ?? '', DATAFLOW_CLI: 'printf %s\\n', DATAFLOW_PROJECT_DIR: project },
    });
    return stdout.trimEnd().split('\n');
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'shop-models-dag-'));
    project = join(work, 'shop');
    await cp(join(root, 'examples/shop'), project, {
      recursive: true,
      filter: (src) => !/[/\\](\.dataflow|target)$/.test(src),
    });
    dag = await inspectDag(
      work,
      await readFile(join(root, 'airflow/dags/dataflow_shop_models.py'), 'utf8'),
      3,
    );
    rates = await startRatesServer({ port: 0, token: 'tok-models-dag' });
    // A database of its own: the example uses fixed schema names (analytics, dataflow).
    database = await createScratchDatabase('shop_models');
    pool = database.pool;
    env = {
      DATAFLOW_DATABASE_URL: database.url,
      DATAFLOW_LAKE_URL: `s3://${s3.bucket}/${s3.prefix}lake/raw`,
      DATAFLOW_S3_ENDPOINT: s3.s3.endpoint,
      AWS_ACCESS_KEY_ID: s3.s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.s3.secretAccessKey,
      AWS_REGION: s3.s3.region,
      RATES_PORT: String(rates.port),
      RATES_TOKEN: 'tok-models-dag',
    };
    // In-process, the AWS SDK's default credential chain reads process.env (a worker's own copy),
    // not the env given to runCli: set the S3 credentials there for this file, restored after.
    for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION'] as const) {
      savedEnv[key] = process.env[key];
      process.env[key] = env[key];
    }
  });

  afterAll(async () => {
    for (const [key, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    try {
      await rates?.close();
      await database?.drop();
    } finally {
      if (work) await rm(work, { recursive: true, force: true });
    }
  });

  it('every task exits 0 in dependency order; together they build 7 models and the snapshot, check freshness and pass all 36 tests once', async () => {
    const results: Array<{ task: string; argv: string[]; summary: Summary }> = [];
    for (const task of topological(dag.tasks)) {
      const argv = await argvOf(task.kwargs.bash_command as string);
      expect(argv.slice(0, 3)).toEqual([argv[0], '--project', project]);
      // Freshness checks the tables as they are now: the only command without the run's date.
      if (task.task_id.startsWith('freshness.')) expect(argv).not.toContain('--date');
      else expect(argv.slice(-2)).toEqual(['--date', DS]);
      const r = await cli(argv, { env: { ...env, AIRFLOW_CTX_TASK_ID: task.task_id } });
      expect(r.code, `${task.task_id}: ${r.stderr.slice(-2000)}`).toBe(0);
      results.push({ task: task.task_id, argv, summary: r.summary as unknown as Summary });
    }
    expect(results.map((r) => r.task)).toHaveLength(22);
    const total = (f: (s: Summary) => number) => results.reduce((n, r) => n + f(r.summary), 0);
    expect(total((s) => s.models)).toBe(7 + 1);
    // The 36 data tests, and the freshness check of raw.orders recorded as one more.
    expect(total((s) => s.tests.pass + s.tests.warn)).toBe(36 + 1);
    expect(total((s) => s.tests.fail + s.tests.error + s.tests.skipped)).toBe(0);
    expect(total((s) => s.rows_loaded)).toBe(30 + 100 + 119 + 8);
    const byTask = new Map(results.map((r) => [r.task, r.summary]));
    const testsRun = (task: string) => {
      const s = byTask.get(task) as Summary;
      return s.tests.pass + s.tests.warn;
    };
    // fct_orders' build runs its own tests plus the singular test that also reads stg_payments
    // (upstream of it); the relationships tests between unrelated models run in their own tasks.
    expect([byTask.get('models.fct_orders')?.models, testsRun('models.fct_orders')]).toEqual([1, 5]);
    expect(testsRun('models.stg_payments')).toBe(4);
    expect(testsRun('tests.relationships_stg_payments_order_id__order_id__ref_stg_orders_')).toBe(1);
    expect(testsRun('source_tests.orders')).toBe(2);
    expect(byTask.get('load.orders')?.rows_loaded).toBe(100);
    // Freshness after the load and before the source tests; the snapshot after stg_customers.
    const order = results.map((r) => r.task);
    const before = (a: string, b: string) =>
      expect(order.indexOf(a), `${a} before ${b}`).toBeLessThan(order.indexOf(b));
    before('load.orders', 'freshness.orders');
    before('freshness.orders', 'source_tests.orders');
    before('models.stg_customers', 'snapshots.customers_snapshot');
    expect(byTask.get('freshness.orders')?.tests).toMatchObject({ pass: 1, warn: 0, error: 0 });
    expect(byTask.get('snapshots.customers_snapshot')?.models).toBe(1);

    const count = async (relation: string) =>
      Number((await pool.query<{ n: string }>(`select count(*) as n from ${relation}`)).rows[0]?.n);
    expect(await count('analytics.fct_orders')).toBe(100);
    expect(await count('analytics.dim_customers')).toBe(30);
    expect(await count('analytics.fct_daily_revenue')).toBe(1);
    // The first snapshot run: one current version per customer.
    expect(await count('analytics.customers_snapshot where dbt_valid_to is null')).toBe(30);
    expect(await count('analytics.customers_snapshot')).toBe(30);
    // One recorded run per task, with the task id Airflow passes in the environment.
    const history = await pool.query<{ n: number }>(
      `select count(distinct airflow_task_id)::int as n from dataflow.run_history where status = 'success'`,
    );
    expect(history.rows[0]?.n).toBe(22);
  });

  it('the customers snapshot keeps the old version of a changed customer (check strategy)', async () => {
    const task = dag.tasks.find((t) => t.task_id === 'snapshots.customers_snapshot');
    const argv = await argvOf(task?.kwargs.bash_command as string);
    expect(argv).toEqual(['snapshot', '--project', project, '--select', 'customers_snapshot', '--date', DS]);
    // raw_customers is upserted: a newer export with a changed email overwrites the row.
    await pool.query(
      "update analytics.raw_customers set email = 'priya@example.org', country = 'IE' where customer_id = '1'",
    );
    const r = await cli(argv, { env });
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const versions = await pool.query<{ email: string; country: string; closed: boolean }>(
      `select email, country, dbt_valid_to is not null as closed from analytics.customers_snapshot
        where customer_id = 1 order by dbt_valid_from`,
    );
    expect(versions.rows).toEqual([
      { email: 'priya.obrien.1@example.com', country: 'GB', closed: true },
      { email: 'priya@example.org', country: 'IE', closed: false },
    ]);
    // Unchanged customers keep their one current version.
    const others = await pool.query<{ n: number }>(
      'select count(*)::int as n from analytics.customers_snapshot where customer_id <> 1 and dbt_valid_to is null',
    );
    expect(others.rows[0]?.n).toBe(29);
    expect(
      (await pool.query<{ n: number }>('select count(*)::int as n from analytics.customers_snapshot')).rows[0]
        ?.n,
    ).toBe(31);
  });
});
