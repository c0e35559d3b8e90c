import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { testServices, useTestDatabase } from '@dataflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, tempProject } from './helpers.js';

describe('slim CI: state:modified+ --defer, result:, package:, ls, run_results.json', () => {
  const db = useTestDatabase();
  let dir: string;
  const env = { DATABASE_URL: testServices().databaseUrl };
  const meta = () => `${db.schema}_meta`;
  const ci = () => `${db.schema}_ci`;
  const table = async (sql: string) => (await db.pool.query(sql)).rows;
  const jobs = (runId: unknown) =>
    table(
      `select target, unique_id, status from "${meta()}".job_status where run_id = '${String(runId)}' order by unique_id`,
    );
  const exists = async (schema: string, name: string) =>
    (await table(`select to_regclass('"${schema}"."${name}"') is not null as present`))[0]?.present;

  beforeAll(async () => {
    const s = `"${db.schema}"`;
    await db.pool.query(`create table ${s}.raw_orders (order_id int, amount int)`);
    await db.pool.query(`insert into ${s}.raw_orders values (1, 10), (2, 200), (3, 300)`);
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
      'models/stg_orders.sql': `{{ config(materialized='table') }}
select order_id, amount from {{ source('raw', 'orders') }}
`,
      'models/stg_other.sql': `{{ config(materialized='table') }}
select 1 as id
`,
      'models/big_orders.sql': `{{ config(materialized='table') }}
select order_id, amount from {{ ref('stg_orders') }} where amount > 100
`,
      'models/big_orders_count.sql': `{{ config(materialized='view') }}
select count(*)::int as n from {{ ref('big_orders') }}
`,
      'models/schema.yml': `version: 2
models:
  - name: big_orders
    columns:
      - name: order_id
        data_tests: [not_null]
`,
    });
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    for (const schema of [meta(), ci(), db.schema])
      await db.pool.query(`drop schema if exists "${schema}" cascade`);
  });

  it('a prod build writes manifest.json with checksums and run_results.json keyed by unique id', async () => {
    const r = await cli(['build'], { cwd: dir, env });
    expect(r.stderr).not.toContain('failed');
    expect(r.code).toBe(0);
    const manifest = JSON.parse(await readFile(join(dir, 'target/manifest.json'), 'utf8'));
    expect(manifest.nodes['model.shop.big_orders'].checksums).toEqual({
      body: expect.stringMatching(/^[0-9a-f]{64}$/),
      configs: expect.stringMatching(/^[0-9a-f]{64}$/),
      relation: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const runResults = JSON.parse(await readFile(join(dir, 'target/run_results.json'), 'utf8'));
    expect(runResults.metadata.invocation_id).toBe(r.summary?.run_id);
    expect(runResults.args).toMatchObject({ which: 'build', select: [], days: [], completed_days: [] });
    const byId = Object.fromEntries(
      runResults.results.map((x: { unique_id: string }) => [x.unique_id, x]),
    ) as Record<string, Record<string, unknown>>;
    expect(Object.keys(byId).sort()).toEqual([
      'model.shop.big_orders',
      'model.shop.big_orders_count',
      'model.shop.stg_orders',
      'model.shop.stg_other',
      expect.stringMatching(/^test\.shop\.not_null_big_orders_order_id\./),
    ]);
    expect(byId['model.shop.stg_orders']).toMatchObject({
      status: 'success',
      adapter_response: { rows_affected: 3 },
      timing: [{ name: 'execute', started_at: expect.any(String), completed_at: expect.any(String) }],
      message: null,
      relation_name: `${db.schema}.stg_orders`,
    });
    const test = Object.values(byId).find((x) => String(x.unique_id).startsWith('test.'));
    expect(test).toMatchObject({ status: 'pass', failures: 0 });
    // The run log keys node results by unique id.
    expect(await jobs(r.summary?.run_id)).toContainEqual({
      target: 'big_orders',
      unique_id: 'model.shop.big_orders',
      status: 'success',
    });
    await cp(join(dir, 'target'), join(dir, 'prod-state'), { recursive: true });
  });

  it('ls lists state:modified+ against the prod manifest (nothing before a change)', async () => {
    const none = await cli(['ls', '--select', 'state:modified+', '--state', 'prod-state'], { cwd: dir, env });
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain('the selection matches no node');
    await writeFile(
      join(dir, 'models/big_orders.sql'),
      `{{ config(materialized='table') }}
select order_id, amount * 2 as amount from {{ ref('stg_orders') }} where amount > 100
`,
    );
    const changed = await cli(
      [
        'ls',
        '--select',
        'state:modified+',
        '--state',
        'prod-state',
        '--resource-type',
        'model',
        '--output',
        'name',
      ],
      { cwd: dir, env },
    );
    expect(changed.code).toBe(0);
    expect(changed.stdout).toBe('big_orders\nbig_orders_count\n');
  });

  it('state:modified+ --defer builds only the changed model and its children, reading unchanged parents from the state schema', async () => {
    const r = await cli(
      ['build', '--select', 'state:modified+', '--state', 'prod-state', '--defer', '--target-schema', ci()],
      { cwd: dir, env },
    );
    expect(r.stderr).not.toContain('failed');
    expect(r.code).toBe(0);
    expect((await jobs(r.summary?.run_id)).map((j) => j.unique_id)).toEqual([
      'model.shop.big_orders',
      'model.shop.big_orders_count',
      expect.stringMatching(/^test\.shop\.not_null_big_orders_order_id\./),
    ]);
    // The parent was not built in the CI schema: it was read from prod.
    expect(await exists(ci(), 'stg_orders')).toBe(false);
    expect(await exists(ci(), 'stg_other')).toBe(false);
    expect(await table(`select order_id, amount from "${ci()}".big_orders order by order_id`)).toEqual([
      { order_id: 2, amount: 400 },
      { order_id: 3, amount: 600 },
    ]);
    expect(await table(`select n from "${ci()}".big_orders_count`)).toEqual([{ n: 2 }]);
    // Prod is untouched.
    expect(await table(`select sum(amount)::int as s from "${db.schema}".big_orders`)).toEqual([{ s: 500 }]);
  });

  it('--defer reads a parent that exists in the target from the target; --favor-state reads the state one', async () => {
    await db.pool.query(`create table "${ci()}".stg_orders as select 9 as order_id, 900 as amount`);
    const args = [
      'build',
      '--select',
      'big_orders',
      '--state',
      'prod-state',
      '--defer',
      '--target-schema',
      ci(),
    ];
    const own = await cli(args, { cwd: dir, env });
    expect(own.code).toBe(0);
    expect(await table(`select order_id from "${ci()}".big_orders order by 1`)).toEqual([{ order_id: 9 }]);
    const favored = await cli([...args, '--favor-state'], { cwd: dir, env });
    expect(favored.code).toBe(0);
    expect(await table(`select order_id from "${ci()}".big_orders order by 1`)).toEqual([
      { order_id: 2 },
      { order_id: 3 },
    ]);
  });

  it('--defer without --state, --favor-state without --defer, and a missing state dir are usage errors (exit 2)', async () => {
    const noState = await cli(['build', '--defer'], { cwd: dir, env });
    expect(noState.code).toBe(2);
    expect(noState.stderr).toContain('--defer needs --state DIR');
    const noDefer = await cli(['build', '--state', 'prod-state', '--favor-state'], { cwd: dir, env });
    expect(noDefer.code).toBe(2);
    expect(noDefer.stderr).toContain('--favor-state needs --defer');
    const missing = await cli(['build', '--select', 'state:modified', '--state', 'nowhere'], {
      cwd: dir,
      env,
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nowhere/manifest.json: not found');
    const noStateSelector = await cli(['ls', '--select', 'state:new'], { cwd: dir, env });
    expect(noStateSelector.code).toBe(2);
    expect(noStateSelector.stderr).toContain('state:new needs a previous manifest (--state DIR)');
  });

  it('result:error+ re-selects what failed last time; package: and an empty selection exit 0', async () => {
    await writeFile(
      join(dir, 'models/big_orders.sql'),
      `{{ config(materialized='table') }}
select order_id, amount / 0 as amount from {{ ref('stg_orders') }} where amount > 100
`,
    );
    const failed = await cli(['build'], { cwd: dir, env });
    expect(failed.code).toBe(1);
    const listed = await cli(['ls', '--select', 'result:error result:skipped', '--output', 'name'], {
      cwd: dir,
      env,
    });
    expect(listed.stdout.split('\n').filter(Boolean).sort()).toEqual([
      'big_orders',
      'big_orders_count',
      expect.stringMatching(/^not_null_big_orders_order_id/),
    ]);
    await writeFile(
      join(dir, 'models/big_orders.sql'),
      `{{ config(materialized='table') }}
select order_id, amount from {{ ref('stg_orders') }} where amount > 100
`,
    );
    const again = await cli(['build', '--select', 'result:error+'], { cwd: dir, env });
    expect(again.code).toBe(0);
    expect((await jobs(again.summary?.run_id)).map((j) => j.unique_id)).toEqual([
      'model.shop.big_orders',
      'model.shop.big_orders_count',
      expect.stringMatching(/^test\.shop\.not_null_big_orders_order_id\./),
    ]);
    const pkg = await cli(
      ['ls', '--select', 'package:shop', '--resource-type', 'model', '--output', 'path'],
      {
        cwd: dir,
        env,
      },
    );
    expect(pkg.stdout).toBe(
      'models/big_orders.sql\nmodels/big_orders_count.sql\nmodels/stg_orders.sql\nmodels/stg_other.sql\n',
    );
    const nothing = await cli(['build', '--select', 'package:nope'], { cwd: dir, env });
    expect(nothing.code).toBe(0);
    expect(nothing.stderr).toContain('the selection matches no node');
  });
});
