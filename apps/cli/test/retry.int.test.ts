import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { testServices, useTestDatabase } from '@dataflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, tempProject } from './helpers.js';

describe('dataflow retry after a failed range or failed nodes; results never dropped silently', () => {
  const db = useTestDatabase();
  let dir: string;
  const env = { DATABASE_URL: testServices().databaseUrl };
  const meta = () => `${db.schema}_meta`;
  const table = async (sql: string) => (await db.pool.query(sql)).rows;
  const jobs = (runId: unknown) =>
    table(
      `select unique_id, partition, status from "${meta()}".job_status where run_id = '${String(runId)}' order by partition, unique_id`,
    );

  beforeAll(async () => {
    const s = `"${db.schema}"`;
    // `gate` decides which days can build: a day without a row divides by zero.
    await db.pool.query(`create table ${s}.gate (ds date)`);
    await db.pool.query(`insert into ${s}.gate values ('2026-05-01'), ('2026-05-03')`);
    await db.pool.query(`create table ${s}.raw_orders (order_id int)`);
    await db.pool.query(`insert into ${s}.raw_orders values (1), (2)`);
    dir = await tempProject({
      'dataflow.yml': `name: shop
warehouse:
  url: \${DATABASE_URL}
  schema: ${db.schema}
metadata:
  schema: ${meta()}
sources:
  orders:
    type: csv
    location: data/orders/{{ ds }}.csv
`,
      'models/schema.yml': `version: 2
sources:
  - name: ops
    schema: ${db.schema}
    tables:
      - name: gate
`,
      'models/daily.sql': `{{ config(materialized='table') }}
select '{{ var("ds", "none") }}'::text as ds,
  1 / (select count(*)::int from {{ source('ops', 'gate') }} where coalesce(ds::text, 'none') = '{{ var("ds", "none") }}') as ok
`,
      'models/daily_view.sql': `{{ config(materialized='view') }}
select * from {{ ref('daily') }}
`,
      'models/orders.sql': `{{ config(materialized='table') }}
select order_id from {{ source('raw', 'orders') }}
`,
    });
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    for (const schema of [meta(), db.schema])
      await db.pool.query(`drop schema if exists "${schema}" cascade`);
  });

  it('a range stops at the failing day; the summary says which days succeeded; retry runs the days not finished', async () => {
    const range = ['--start', '2026-05-01', '--end', '2026-05-04'];
    const failed = await cli(['build', ...range, '--select', 'daily+'], { cwd: dir, env });
    expect(failed.code).toBe(1);
    expect(failed.summary).toMatchObject({
      exit_code: 1,
      days: { succeeded: ['2026-05-01'], failed: ['2026-05-02'], not_run: ['2026-05-03'] },
    });
    const record = JSON.parse(await readFile(join(dir, 'target/run_results.json'), 'utf8'));
    expect(record.args).toMatchObject({
      which: 'build',
      select: ['daily+'],
      days: ['2026-05-01', '2026-05-02', '2026-05-03'],
      completed_days: ['2026-05-01'],
    });
    expect(
      record.results.map((r: { unique_id: string; status: string }) => [r.unique_id, r.status]).sort(),
    ).toEqual([
      ['model.shop.daily', 'error'],
      ['model.shop.daily_view', 'skipped'],
    ]);

    await db.pool.query(`insert into "${db.schema}".gate values ('2026-05-02')`);
    const retried = await cli(['retry'], { cwd: dir, env });
    expect(retried.stderr).not.toContain('failed');
    expect(retried.code).toBe(0);
    expect(retried.summary).toMatchObject({
      command: 'retry',
      days: { succeeded: ['2026-05-02', '2026-05-03'], failed: [], not_run: [] },
    });
    expect(await jobs(retried.summary?.run_id)).toEqual([
      { unique_id: 'model.shop.daily', partition: '2026-05-02', status: 'success' },
      { unique_id: 'model.shop.daily_view', partition: '2026-05-02', status: 'success' },
      { unique_id: 'model.shop.daily', partition: '2026-05-03', status: 'success' },
      { unique_id: 'model.shop.daily_view', partition: '2026-05-03', status: 'success' },
    ]);
    expect(await table(`select ds from "${db.schema}".daily_view`)).toEqual([{ ds: '2026-05-03' }]);

    const nothing = await cli(['retry'], { cwd: dir, env });
    expect(nothing.code).toBe(0);
    expect(nothing.stderr).toContain('nothing to retry');
    expect(await jobs(nothing.summary?.run_id)).toEqual([]);
  });

  it('without a range, retry re-runs only the nodes that errored or were skipped', async () => {
    // No `ds` var: `daily` divides by zero (no NULL gate row), `daily_view` is skipped, `orders` succeeds.
    const failed = await cli(['build'], { cwd: dir, env });
    expect(failed.code).toBe(1);
    const stillFailing = await cli(['retry'], { cwd: dir, env });
    expect(stillFailing.code).toBe(1);
    expect((await jobs(stillFailing.summary?.run_id)).map((j) => [j.unique_id, j.status])).toEqual([
      ['model.shop.daily', 'failed'],
      ['model.shop.daily_view', 'skipped'],
    ]);
    await db.pool.query(`insert into "${db.schema}".gate values (null)`);
    const retried = await cli(['retry'], { cwd: dir, env });
    expect(retried.code).toBe(0);
    expect((await jobs(retried.summary?.run_id)).map((j) => [j.unique_id, j.status])).toEqual([
      ['model.shop.daily', 'success'],
      ['model.shop.daily_view', 'success'],
    ]);
    expect(await table(`select ds from "${db.schema}".daily_view`)).toEqual([{ ds: 'none' }]);
  });

  it('a node result the run log cannot record is logged as a warning, kept in run_results.json, and exits 1', async () => {
    await db.pool.query(`create function "${meta()}".refuse_orders() returns trigger language plpgsql as $$
begin
  if new.unique_id = 'model.shop.orders' then raise exception 'job_status is read-only for orders'; end if;
  return new;
end $$`);
    await db.pool.query(
      `create trigger refuse_orders before insert on "${meta()}".job_status for each row execute function "${meta()}".refuse_orders()`,
    );
    try {
      const r = await cli(['build', '--select', 'orders'], { cwd: dir, env });
      expect(r.code).toBe(1);
      expect(r.summary).toMatchObject({ exit_code: 1, error: { code: 'RUNLOG_INCOMPLETE' } });
      expect(r.stderr).toContain('could not record a node result in the run log');
      expect(r.stderr).toContain('"node":"model.shop.orders"');
      expect(r.stderr).toContain('1 node result(s) could not be recorded in the run log');
      const record = JSON.parse(await readFile(join(dir, 'target/run_results.json'), 'utf8'));
      expect(record.results).toEqual([
        expect.objectContaining({ unique_id: 'model.shop.orders', status: 'success' }),
      ]);
      // The model itself was built.
      expect(await table(`select count(*)::int as n from "${db.schema}".orders`)).toEqual([{ n: 2 }]);
    } finally {
      await db.pool.query(`drop trigger if exists refuse_orders on "${meta()}".job_status`);
    }
  });

  it('without target/run_results.json (a fresh Airflow worker), retry rebuilds the record from the run log', async () => {
    await db.pool.query(`insert into "${db.schema}".gate values ('2026-06-01'), ('2026-06-03')`);
    const failed = await cli(['build', '--start', '2026-06-01', '--end', '2026-06-04', '--select', 'daily'], {
      cwd: dir,
      env,
    });
    expect(failed.code).toBe(1);
    await rm(join(dir, 'target'), { recursive: true, force: true });
    await db.pool.query(`insert into "${db.schema}".gate values ('2026-06-02')`);
    const retried = await cli(['retry'], { cwd: dir, env });
    expect(retried.code).toBe(0);
    expect(retried.stderr).toContain('no run_results.json: retrying from the run log');
    expect(retried.summary).toMatchObject({
      days: { succeeded: ['2026-06-02', '2026-06-03'], failed: [], not_run: [] },
    });
    expect(await jobs(retried.summary?.run_id)).toEqual([
      { unique_id: 'model.shop.daily', partition: '2026-06-02', status: 'success' },
      { unique_id: 'model.shop.daily', partition: '2026-06-03', status: 'success' },
    ]);
  });

  it('retry without a previous run_results.json or run is a usage error naming the file', async () => {
    const empty = await tempProject({
      'dataflow.yml': `name: other
warehouse:
  url: \${DATABASE_URL}
  schema: ${db.schema}
metadata:
  schema: ${meta()}
`,
    });
    try {
      const r = await cli(['retry'], { cwd: empty, env });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        'target/run_results.json: not found and the run log has no pipeline run of this project; nothing to retry',
      );
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
