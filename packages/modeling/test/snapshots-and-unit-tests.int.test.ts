import { useTestDatabase } from '@dataflow/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { build, type CompiledGraph, compileProject, type NodeResult } from '../src/index.js';
import { writeProject } from './helpers.js';

const db = useTestDatabase();
const rows = async (sql: string) => (await db.pool.query(sql)).rows;
const brief = (results: NodeResult[]) => results.map((r) => [r.resourceType, r.name, r.status]);

async function compile(dir: string): Promise<CompiledGraph> {
  const { graph, diagnostics } = await compileProject({
    dir,
    schema: db.schema,
    sources: {
      raw: {
        customers: { schema: db.schema, identifier: 'src_customers' },
        events: { schema: db.schema, identifier: 'src_events' },
      },
    },
  });
  expect(diagnostics).toEqual([]);
  return graph;
}

beforeAll(async () => {
  await db.pool.query(`create table src_customers (id int, name text, updated_at timestamp)`);
  await db.pool.query(`create table src_events (id int, amount int, day date)`);
});

describe('build runs snapshots in DAG order', () => {
  it('three batches (insert, update, hard delete) give the hand-computed SCD2 rows; a child model reads the snapshot', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\n',
      'models/sources.yml': 'sources:\n  - name: raw\n    tables: [{ name: customers }]\n',
      'snapshots/customers.sql': `{% snapshot customers_snapshot %}
{{ config(strategy='timestamp', unique_key='id', updated_at='updated_at', hard_deletes='invalidate') }}
select id, name, updated_at from {{ source('raw', 'customers') }}
{% endsnapshot %}`,
      'models/current_customers.sql': `{{ config(materialized='table') }}
select id, name from {{ ref('customers_snapshot') }} where dbt_valid_to is null`,
    });
    const graph = await compile(dir);
    const load = async (values: string) => {
      await db.pool.query('truncate src_customers');
      await db.pool.query(`insert into src_customers values ${values}`);
    };
    const run = async (runId: string, at: string) => {
      const r = await build(db.pool, graph, { runId, snapshotTime: at });
      expect(r.success).toBe(true);
      return r.results.map((x) => [x.name, x.action, x.rows]);
    };
    await load(`(1, 'alice', '2024-01-01'), (2, 'bob', '2024-01-01')`);
    expect(await run('s1', '2024-02-01T00:00:00Z')).toEqual([
      ['customers_snapshot', 'created', 2],
      ['current_customers', 'created', 2],
    ]);
    await load(`(1, 'alicia', '2024-01-15'), (2, 'bob', '2024-01-01'), (3, 'carol', '2024-01-20')`);
    expect((await run('s2', '2024-02-02T00:00:00Z'))[0]).toEqual(['customers_snapshot', 'snapshotted', 2]);
    await load(`(1, 'alicia', '2024-01-15'), (3, 'carol', '2024-01-20')`);
    await run('s3', '2024-02-03T00:00:00Z');
    expect(
      await rows(
        `select id, name, dbt_valid_from::text as vf, dbt_valid_to::text as vt from customers_snapshot order by id, dbt_valid_from`,
      ),
    ).toEqual([
      { id: 1, name: 'alice', vf: '2024-01-01 00:00:00', vt: '2024-01-15 00:00:00' },
      { id: 1, name: 'alicia', vf: '2024-01-15 00:00:00', vt: null },
      { id: 2, name: 'bob', vf: '2024-01-01 00:00:00', vt: '2024-02-03 00:00:00' },
      { id: 3, name: 'carol', vf: '2024-01-20 00:00:00', vt: null },
    ]);
    expect(await rows('select id, name from current_customers order by id')).toEqual([
      { id: 1, name: 'alicia' },
      { id: 3, name: 'carol' },
    ]);
    // A snapshot that fails (duplicate keys) skips its children and writes nothing.
    await load(`(1, 'alicia', '2024-01-15'), (1, 'again', '2024-03-01')`);
    const failed = await build(db.pool, graph, { runId: 's4', snapshotTime: '2024-03-02T00:00:00Z' });
    expect(brief(failed.results)).toEqual([
      ['snapshot', 'customers_snapshot', 'error'],
      ['model', 'current_customers', 'skipped'],
    ]);
    expect(failed.results[0]?.message).toBe(
      'customers_snapshot: the source rows repeat unique_key values (id): {"id":1}; nothing was written',
    );
    expect(await rows('select count(*)::int as n from customers_snapshot')).toEqual([{ n: 4 }]);
  });
});

describe('build runs unit tests before their model', () => {
  const unitProject = (expectTotal: number) => ({
    'dbt_project.yml': 'name: shop\n',
    'models/sources.yml': 'sources:\n  - name: raw\n    tables: [{ name: events }]\n',
    'models/stg_events.sql': `select id, amount, day from {{ source('raw', 'events') }}`,
    'models/event_totals.sql': `{{ config(materialized='table') }}
select day, sum(amount) as total, count(*) as events from {{ ref('stg_events') }} group by day`,
    'models/fct_events.sql': `{{ config(materialized='incremental', unique_key='id', incremental_strategy='merge') }}
select id, amount, day from {{ ref('stg_events') }}
{% if is_incremental() %}where day >= (select max(day) from {{ this }}){% endif %}`,
    'models/unit_tests.yml': `
unit_tests:
  - name: totals_per_day
    model: event_totals
    given:
      - input: ref('stg_events')
        format: csv
        rows: |
          id,amount,day
          1,10,2024-01-01
          2,20,2024-01-01
          3,5,2024-01-02
    expect:
      rows:
        - { day: 2024-01-01, total: ${expectTotal} }
        - { day: 2024-01-02, total: 5 }
  - name: merges_into_existing_rows
    model: fct_events
    given:
      - input: ref('stg_events')
        rows:
          - { id: 2, amount: 25, day: 2024-01-02 }
          - { id: 3, amount: 30, day: 2024-01-03 }
          - { id: 9, amount: 1, day: 2023-12-01 }
      - input: this
        format: sql
        rows: "select 1 as id, 10 as amount, date '2024-01-01' as day union all select 2, 20, date '2024-01-02'"
    expect:
      format: csv
      rows: |
        id,amount
        1,10
        2,25
        3,30
`,
  });

  it('passing unit tests let their models build; nothing of theirs stays in the database', async () => {
    await db.pool.query(`insert into src_events values (1, 10, '2024-01-01'), (2, 20, '2024-01-02')`);
    const graph = await compile(await writeProject(unitProject(30)));
    const r = await build(db.pool, graph, { runId: 'u1', threads: 1 });
    expect(brief(r.results)).toEqual([
      ['model', 'stg_events', 'success'],
      ['unit_test', 'totals_per_day', 'pass'],
      ['model', 'event_totals', 'success'],
      ['unit_test', 'merges_into_existing_rows', 'pass'],
      ['model', 'fct_events', 'success'],
    ]);
    expect(r.success).toBe(true);
    // The real tables hold real rows only; no fixture table was left behind.
    expect(await rows('select id, amount from fct_events order by id')).toEqual([
      { id: 1, amount: 10 },
      { id: 2, amount: 20 },
    ]);
    expect(await rows(`select relname from pg_class where relname like '%df_ut%'`)).toEqual([]);
  });

  it('a failing unit test shows the row diff, fails the build as a test failure and skips its model', async () => {
    const graph = await compile(await writeProject(unitProject(31)));
    const r = await build(db.pool, graph, {
      runId: 'u2',
      threads: 1,
      select: ['test_type:unit', 'event_totals'],
    });
    expect(brief(r.results)).toEqual([
      ['unit_test', 'totals_per_day', 'fail'],
      ['model', 'event_totals', 'skipped'],
      ['unit_test', 'merges_into_existing_rows', 'pass'],
    ]);
    expect(r.results[0]?.message).toBe(
      [
        'actual differs from expected:',
        '@@  | day        | total',
        '--- | 2024-01-01 | 31',
        '+++ | 2024-01-01 | 30',
      ].join('\n'),
    );
    expect(r.hasTestFailures).toBe(true);
    expect(r.success).toBe(false);
  });
});
