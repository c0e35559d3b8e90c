import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { testServices, useTestBucket, useTestDatabase } from '@dataflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './helpers.js';
import { tsConfigProject } from './ts-project.js';

const D = '2026-05-01';
const ORDERS = `order_id,customer_id,status,amount
1001,1,completed,19.90
1002,2,completed,5.00
1003,1,cancelled,42.50
`;
const DB_PASSWORD = `pw-${randomBytes(8).toString('hex')}`;
// The TypeScript config reads process.env itself (no ${ENV} interpolation); a per-file name.
const URL_VAR = `DF_TS_TEST_URL_${randomBytes(4).toString('hex')}`;

describe('dataflow with dataflow.config.ts against the test PostgreSQL and S3 servers', () => {
  const db = useTestDatabase();
  const s3 = useTestBucket();
  const role = `df_${randomBytes(4).toString('hex')}`;
  const meta = () => `${db.schema}_meta`;
  const jaffle = () => `${db.schema}_jaffle`;
  const dirs: string[] = [];
  const table = async (sql: string) => (await db.pool.query(sql)).rows;

  beforeAll(async () => {
    // A login role with a strong password, so the secret-leak assertions are meaningful.
    await db.pool.query(`create role ${role} login superuser password '${DB_PASSWORD}'`);
    const url = new URL(testServices().databaseUrl);
    url.username = role;
    url.password = DB_PASSWORD;
    process.env[URL_VAR] = url.toString();
  });

  afterAll(async () => {
    delete process.env[URL_VAR];
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    for (const schema of [meta(), jaffle(), db.schema]) {
      await db.pool.query(`drop schema if exists "${schema}" cascade`);
    }
    await db.pool.query(`drop owned by ${role} cascade`).catch(() => undefined);
    await db.pool.query(`drop role if exists ${role}`);
  });

  it('run --date ingests a CSV source, loads it and builds a TypeScript model with its tests', async () => {
    const dir = await tsConfigProject({
      'dataflow.config.ts': `import { defineConfig } from '@dataflow/cli';
import { defineModel, sql } from '@dataflow/modeling';

const stgOrders = defineModel({
  name: 'stg_orders',
  materialized: 'table',
  refs: ['raw_orders'],
  columns: { order_id: { tests: ['unique', 'not_null'] } },
  sql: ({ ref, var: v }) => sql\`
select order_id, customer_id, amount, \${v<string>('ds')}::date as ds
from \${ref('raw_orders')}
where status <> \${'cancelled'}\`,
});

export default defineConfig({
  name: 'shop_ts',
  warehouse: { url: process.env.${URL_VAR}, schema: '${db.schema}' },
  metadata: { schema: '${meta()}' },
  lake: {
    url: 's3://${s3.bucket}/${s3.prefix}lake',
    endpoint: '${s3.s3.endpoint}',
    region: '${s3.s3.region}',
    access_key_id: '${s3.s3.accessKeyId}',
    secret_access_key: '${s3.s3.secretAccessKey}',
  },
  sources: {
    orders: {
      type: 'csv',
      location: 'data/orders/{{ ds }}.csv',
      primary_key: ['order_id'],
      columns: { order_id: 'integer', customer_id: 'integer', status: 'text', amount: 'numeric' },
    },
  },
  models: [stgOrders],
});
`,
      [`data/orders/${D}.csv`]: ORDERS,
    });
    dirs.push(dir);
    const r = await cli(['run', '--date', D, '--log-level', 'debug'], { cwd: dir });
    expect(r.stderr).not.toContain('"level":"error"');
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(r.summary).toMatchObject({
      command: 'run',
      status: 'success',
      exit_code: 0,
      rows_in: 3,
      rows_loaded: 3,
      rows_rejected: 0,
      models: 1,
      tests: { pass: 2, warn: 0, fail: 0, error: 0, skipped: 0 },
    });
    expect(
      await table(`select order_id, amount::text, ds::text from "${db.schema}".stg_orders order by order_id`),
    ).toEqual([
      { order_id: 1001, amount: '19.90', ds: D },
      { order_id: 1002, amount: '5.00', ds: D },
    ]);
    const run = (
      await db.pool.query(`select * from "${meta()}".run_history where run_id = $1`, [r.summary?.run_id])
    ).rows[0];
    expect(run).toMatchObject({ command: 'run', project: 'shop_ts', status: 'success', rows_in: '3' });
    const steps = (
      await db.pool.query<{ step: string; target: string; status: string }>(
        `select step, target, status from "${meta()}".job_status where run_id = $1 order by job_id`,
        [r.summary?.run_id],
      )
    ).rows;
    expect(steps.filter((j) => j.step !== 'test')).toEqual([
      { step: 'ingest', target: 'orders', status: 'success' },
      { step: 'load', target: 'orders', status: 'success' },
      { step: 'model', target: 'stg_orders', status: 'success' },
    ]);
    expect(steps.filter((j) => j.step === 'test')).toHaveLength(2);
    // The password the config read from process.env and the S3 secret key are registered secrets.
    const output = r.stdout + r.stderr;
    expect(output.length).toBeGreaterThan(1000);
    const stored = await table(
      `select row_to_json(h)::text as t from "${meta()}".run_history h
       union all select row_to_json(j)::text from "${meta()}".job_status j`,
    );
    for (const text of [output, ...stored.map((row) => row.t as string)]) {
      expect(text).not.toContain(DB_PASSWORD);
      expect(text).not.toContain(s3.s3.secretAccessKey);
    }
  });

  it('builds a jaffle-style defineProject() project (seeds, models, tests; no models/ dir)', async () => {
    const dir = await tsConfigProject({
      'seeds/raw_customers.csv': 'id,first_name\n1,Ann\n2,Bo\n3,Cy\n',
      'seeds/raw_orders.csv': 'id,user_id,status\n10,1,completed\n11,1,placed\n12,3,returned\n',
      'dataflow.config.ts': `import { defineConfig } from '@dataflow/cli';
import { defineModel, defineProject, sql } from '@dataflow/modeling';

const stgCustomers = defineModel({
  name: 'stg_customers', materialized: 'view', refs: ['raw_customers'],
  columns: { customer_id: { tests: ['unique', 'not_null'] } },
  sql: ({ ref }) => sql\`select id as customer_id, first_name from \${ref('raw_customers')}\`,
});
const stgOrders = defineModel({
  name: 'stg_orders', materialized: 'view', refs: ['raw_orders'],
  columns: {
    order_id: { tests: ['unique'] },
    status: { tests: [{ accepted_values: { values: ['placed', 'completed', 'returned'] } }] },
  },
  sql: ({ ref }) => sql\`select id as order_id, user_id as customer_id, status from \${ref('raw_orders')}\`,
});
const customers = defineModel({
  name: 'customers', materialized: 'table', refs: ['stg_customers', 'stg_orders'],
  columns: { customer_id: { tests: ['unique', { relationships: { to: "ref('stg_customers')", field: 'customer_id' } }] } },
  sql: ({ ref }) => sql\`
select c.customer_id, c.first_name, count(o.order_id)::int as number_of_orders
from \${ref('stg_customers')} c left join \${ref('stg_orders')} o using (customer_id)
group by c.customer_id, c.first_name\`,
});

export const config = defineConfig({
  name: 'jaffle_ts',
  warehouse: { url: process.env.${URL_VAR}, schema: '${jaffle()}' },
  metadata: { schema: '${meta()}' },
  project: defineProject({
    name: 'jaffle_ts',
    models: [stgCustomers, stgOrders, customers],
    seeds: [
      { name: 'raw_customers', file: 'seeds/raw_customers.csv' },
      { name: 'raw_orders', file: 'seeds/raw_orders.csv' },
    ],
  }),
});
`,
    });
    dirs.push(dir);
    const r = await cli(['build'], { cwd: dir });
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(r.summary).toMatchObject({
      command: 'build',
      status: 'success',
      models: 3,
      tests: { pass: 6, fail: 0, error: 0 },
    });
    expect(
      await table(
        `select customer_id::int, first_name, number_of_orders from "${jaffle()}".customers order by 1`,
      ),
    ).toEqual([
      { customer_id: 1, first_name: 'Ann', number_of_orders: 2 },
      { customer_id: 2, first_name: 'Bo', number_of_orders: 0 },
      { customer_id: 3, first_name: 'Cy', number_of_orders: 1 },
    ]);
    expect(r.stdout + r.stderr).not.toContain(DB_PASSWORD);
  });
});
