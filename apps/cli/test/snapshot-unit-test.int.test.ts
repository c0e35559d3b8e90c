import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { testServices, useTestDatabase } from '@dataflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, tempProject } from './helpers.js';

const unitTests = (expectedTotal: number) => `unit_tests:
  - name: totals_per_customer
    model: customer_totals
    given:
      - input: ref('stg_customers')
        rows:
          - { customer_id: 1, name: alice, spend: 10 }
          - { customer_id: 1, name: alice, spend: 20 }
          - { customer_id: 2, name: bob, spend: 5 }
    expect:
      rows:
        - { customer_id: 1, total: 30 }
        - { customer_id: 2, total: ${expectedTotal} }
`;

describe('dataflow snapshot, test --select test_type:unit and build with snapshots and unit tests', () => {
  const db = useTestDatabase();
  let dir: string;
  const env = { DATABASE_URL: testServices().databaseUrl };
  const meta = () => `${db.schema}_meta`;
  const table = async (sql: string) => (await db.pool.query(sql)).rows;
  const jobs = (runId: unknown) =>
    table(
      `select step, target, status from "${meta()}".job_status where run_id = '${String(runId)}' order by target`,
    );

  beforeAll(async () => {
    await db.pool.query(`create table "${db.schema}".raw_customers (customer_id int, name text, spend int)`);
    dir = await tempProject({
      'dataflow.yml': `name: shop
warehouse:
  url: \${DATABASE_URL}
  schema: ${db.schema}
metadata:
  schema: ${meta()}
sources:
  customers:
    type: csv
    location: data/customers/{{ ds }}.csv
    primary_key: [customer_id]
`,
      'snapshots/customers_snapshot.sql': `{% snapshot customers_snapshot %}
{{ config(strategy='check', unique_key='customer_id', check_cols=['name']) }}
select customer_id, name from {{ source('raw', 'customers') }}
{% endsnapshot %}
`,
      'models/stg_customers.sql': `{{ config(materialized='view') }}
select customer_id, name, spend from {{ source('raw', 'customers') }}
`,
      'models/customer_totals.sql': `{{ config(materialized='table') }}
select customer_id, sum(spend) as total from {{ ref('stg_customers') }} group by customer_id
`,
      'models/unit_tests.yml': unitTests(6),
    });
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    await db.pool.query(`drop schema if exists "${meta()}" cascade`);
    await db.pool.query(`drop schema if exists "${db.schema}" cascade`);
  });

  it('snapshot builds only the snapshot, then records a change as a new version', async () => {
    await db.pool.query(`insert into "${db.schema}".raw_customers values (1, 'alice', 10), (2, 'bob', 5)`);
    const first = await cli(['snapshot', '--project', dir], { cwd: dir, env });
    expect(first.stderr).not.toContain('failed');
    expect(first.code).toBe(0);
    expect(await jobs(first.summary?.run_id)).toEqual([
      { step: 'model', target: 'customers_snapshot', status: 'success' },
    ]);
    await db.pool.query(`update "${db.schema}".raw_customers set name = 'alicia' where customer_id = 1`);
    const second = await cli(['snapshot', '--select', 'customers_snapshot'], { cwd: dir, env });
    expect(second.code).toBe(0);
    expect(
      await table(
        `select customer_id, name, dbt_valid_to is null as current from "${db.schema}".customers_snapshot order by customer_id, dbt_valid_from`,
      ),
    ).toEqual([
      { customer_id: 1, name: 'alice', current: false },
      { customer_id: 1, name: 'alicia', current: true },
      { customer_id: 2, name: 'bob', current: true },
    ]);
    expect(await table(`select to_regclass('"${db.schema}".customer_totals') is null as absent`)).toEqual([
      { absent: true },
    ]);
  });

  it('test --select test_type:unit exits 3, prints the row diff and records the unit test as a failed test', async () => {
    await writeFile(join(dir, 'models/unit_tests.yml'), unitTests(6));
    const r = await cli(['test', '--select', 'test_type:unit'], { cwd: dir, env });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(
      [
        'unit test totals_per_customer failed:',
        'actual differs from expected:',
        '@@  | customer_id | total',
        '--- | 2           | 6',
        '+++ | 2           | 5',
      ].join('\n'),
    );
    expect(r.summary).toMatchObject({ exit_code: 3 });
    expect(
      await table(
        `select test_name, status, failures::int, message from "${meta()}".test_results where run_id = '${String(r.summary?.run_id)}'`,
      ),
    ).toEqual([
      {
        test_name: 'totals_per_customer',
        status: 'fail',
        failures: 2,
        message: expect.stringContaining('--- | 2           | 6'),
      },
    ]);
    // The model under test was not built (`test` runs tests only).
    expect(await table(`select to_regclass('"${db.schema}".customer_totals') is null as absent`)).toEqual([
      { absent: true },
    ]);
  });

  it('build runs the snapshot, the unit test before its model, and the models', async () => {
    await writeFile(join(dir, 'models/unit_tests.yml'), unitTests(5));
    const r = await cli(['build'], { cwd: dir, env });
    // A passing unit test prints no diff, only its result line.
    expect(r.stderr).not.toContain('failed:');
    expect(r.stderr).toMatch(/"msg":"\d+ of \d+ PASS unit test totals_per_customer \[PASS in /);
    expect(r.code).toBe(0);
    expect(await jobs(r.summary?.run_id)).toEqual([
      { step: 'model', target: 'customer_totals', status: 'success' },
      { step: 'model', target: 'customers_snapshot', status: 'success' },
      { step: 'model', target: 'stg_customers', status: 'success' },
      { step: 'test', target: 'totals_per_customer', status: 'success' },
    ]);
    expect(
      await table(`select customer_id, total::int from "${db.schema}".customer_totals order by customer_id`),
    ).toEqual([
      { customer_id: 1, total: 10 },
      { customer_id: 2, total: 5 },
    ]);
  });

  it('build with a failing unit test exits 3 and skips the model under test', async () => {
    await writeFile(join(dir, 'models/unit_tests.yml'), unitTests(7));
    const r = await cli(['build', '--select', '+customer_totals'], { cwd: dir, env });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('+++ | 2           | 5');
    expect(await jobs(r.summary?.run_id)).toEqual([
      { step: 'model', target: 'customer_totals', status: 'skipped' },
      { step: 'model', target: 'stg_customers', status: 'success' },
      { step: 'test', target: 'totals_per_customer', status: 'failed' },
    ]);
  });
});
