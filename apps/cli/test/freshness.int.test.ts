import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { testServices, useTestDatabase } from '@dataflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, tempProject } from './helpers.js';

describe('dataflow freshness against PostgreSQL', () => {
  const db = useTestDatabase();
  let dir: string;
  const env = { DATABASE_URL: testServices().databaseUrl };
  const meta = () => `${db.schema}_meta`;
  const table = async (sql: string) => (await db.pool.query(sql)).rows;

  beforeAll(async () => {
    const s = `"${db.schema}"`;
    // orders loaded 2 hours ago (warn after 1 hour), customers 3 days ago (error after 1 day),
    // rates has no rule and is not checked.
    await db.pool.query(`create table ${s}.raw_orders (order_id int, _loaded_at timestamptz)`);
    await db.pool.query(`insert into ${s}.raw_orders values (1, now() - interval '2 hours')`);
    await db.pool.query(`create table ${s}.raw_customers (customer_id int, synced_at timestamptz)`);
    await db.pool.query(
      `insert into ${s}.raw_customers values (1, now() - interval '3 days'), (2, now() - interval '1 hour')`,
    );
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
    freshness:
      warn_after: { count: 1, period: hour }
      error_after: { count: 1, period: day }
  customers:
    type: csv
    location: data/customers/{{ ds }}.csv
    loaded_at_field: synced_at
    freshness:
      error_after: { count: 1, period: day }
      filter: customer_id = 1
  rates:
    type: csv
    location: data/rates/{{ ds }}.csv
`,
      'models/stg_orders.sql': `select order_id from {{ source('raw', 'orders') }}\n`,
    });
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    await db.pool.query(`drop schema if exists "${meta()}" cascade`);
    await db.pool.query(`drop schema if exists "${db.schema}" cascade`);
  });

  it('a source past warn_after is shown as WARN and exits 0', async () => {
    const r = await cli(['freshness', '--select', 'source:raw.orders'], { cwd: dir, env });
    expect(r.stderr).not.toMatch(/"level":"(warn|error)"/);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^SOURCE\s+MAX LOADED AT\s+AGE\s+STATUS\s+CRITERIA$/);
    expect(lines[1]).toMatch(/^raw\.orders\s+\S+\s+2h \d+m\s+WARN\s+/);
    expect(lines).toHaveLength(4); // header, one source, the summary line, ''
    expect(r.summary).toMatchObject({ exit_code: 0, command: 'freshness' });
    expect(
      await table(
        `select test_name, status, failures::int from "${meta()}".test_results where run_id = '${String(r.summary?.run_id)}'`,
      ),
    ).toEqual([{ test_name: 'source_freshness_raw_orders', status: 'warn', failures: 1 }]);
    const json = JSON.parse(await readFile(join(dir, 'target/sources.json'), 'utf8'));
    expect(json.results.map((x: { unique_id: string; status: string }) => [x.unique_id, x.status])).toEqual([
      ['source.shop.raw.orders', 'warn'],
    ]);
  });

  it('a source past error_after exits 3; the filter and loaded_at_field decide its age', async () => {
    const r = await cli(['freshness'], { cwd: dir, env });
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/raw\.customers\s+\S+\s+3d \d+h\s+ERROR\s+/);
    expect(r.stdout).toMatch(/raw\.orders\s+\S+\s+2h \d+m\s+WARN\s+/);
    expect(r.stdout).not.toContain('raw.rates');
    expect(r.summary).toMatchObject({ exit_code: 3 });
    expect(JSON.stringify(r.summary?.error)).toContain('1 source(s) past error_after: raw.customers');
    expect(
      await table(
        `select step, target, status from "${meta()}".job_status where run_id = '${String(r.summary?.run_id)}' order by target`,
      ),
    ).toEqual([
      { step: 'test', target: 'source:raw.customers', status: 'failed' },
      { step: 'test', target: 'source:raw.orders', status: 'warn' },
    ]);
    const json = JSON.parse(await readFile(join(dir, 'target/sources.json'), 'utf8'));
    expect(json.results.map((x: { unique_id: string; status: string }) => [x.unique_id, x.status])).toEqual([
      ['source.shop.raw.customers', 'error'],
      ['source.shop.raw.orders', 'warn'],
    ]);
  });

  it('a freshness rule that is malformed is a configuration error naming the key', async () => {
    const bad = await tempProject({
      'dataflow.yml': `name: shop
warehouse:
  url: \${DATABASE_URL}
  schema: ${db.schema}
sources:
  orders:
    type: csv
    location: data/orders/{{ ds }}.csv
    freshness:
      warn_after: { count: 1, period: fortnight }
`,
    });
    const r = await cli(['freshness'], { cwd: bad, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('sources.orders.freshness.warn_after.period');
    await rm(bad, { recursive: true, force: true });
  });
});
