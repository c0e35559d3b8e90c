import { useTestDatabase } from '@dataflow/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  build,
  type CompiledGraph,
  type CompileOptions,
  compileProject,
  ModelingError,
  type NodeResult,
} from '../src/index.js';
import { updateProject, writeProject } from './helpers.js';

const db = useTestDatabase();

async function compile(dir: string, extra: Partial<CompileOptions> = {}): Promise<CompiledGraph> {
  const { graph, diagnostics } = await compileProject({
    dir,
    schema: db.schema,
    sources: { raw: { events: { schema: db.schema, identifier: 'src_events' } } },
    ...extra,
  });
  expect(diagnostics).toEqual([]);
  return graph;
}

const rows = async (sql: string) => (await db.pool.query(sql)).rows;
const statusOf = (results: NodeResult[], name: string) => results.find((r) => r.name === name)?.status;
const leftovers = async () =>
  (
    await db.pool.query(
      `select relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and relname like '%\\_\\_df\\_%'`,
      [db.schema],
    )
  ).rows;

beforeAll(async () => {
  await db.pool.query(`create table src_events (id int, amount int, updated int)`);
  await db.pool.query(`insert into src_events values (1, 10, 1), (2, 20, 1), (3, 30, 1)`);
});

describe('view and table', () => {
  it('builds a view, replaces it in place when compatible, swaps it when not, keeping a dependent view', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: p\n',
      'models/v_events.sql': `select id, amount from {{ source('raw', 'events') }}`,
    });
    let r = await build(db.pool, await compile(dir), { runId: 'v1' });
    expect(r.results.map((x) => [x.name, x.status, x.action])).toEqual([['v_events', 'success', 'created']]);
    await db.pool.query('create view outside_dep as select id from v_events where amount > 15');
    r = await build(db.pool, await compile(dir), { runId: 'v2' });
    expect(r.results[0]?.action).toBe('replaced');
    // Changing a column type is not CREATE OR REPLACE compatible: swap + recreate the dependent.
    await updateProject(dir, {
      'models/v_events.sql': `select id::bigint as id, amount from {{ source('raw', 'events') }}`,
    });
    r = await build(db.pool, await compile(dir), { runId: 'v3' });
    expect(r.results[0]).toMatchObject({ status: 'success', action: 'swapped' });
    expect(
      await rows(
        `select format_type(atttypid, null) as t from pg_attribute where attrelid = 'outside_dep'::regclass and attname = 'id'`,
      ),
    ).toEqual([{ t: 'bigint' }]);
    // A change the dependent cannot survive fails the publish as a whole: nothing is dropped.
    await updateProject(dir, {
      'models/v_events.sql': `select id, amount::text as amount from {{ source('raw', 'events') }}`,
    });
    r = await build(db.pool, await compile(dir), { runId: 'v4' });
    expect(r.results[0]).toMatchObject({
      status: 'error',
      message: 'operator does not exist: text > integer',
    });
    expect(
      await rows(
        `select format_type(atttypid, null) as t from pg_attribute where attrelid = 'v_events'::regclass and attname = 'amount'`,
      ),
    ).toEqual([{ t: 'integer' }]);
    expect(await rows(`select relkind from pg_class where oid = 'v_events'::regclass`)).toEqual([
      { relkind: 'v' },
    ]);
    expect(await rows('select id::int from outside_dep order by id')).toEqual([{ id: 2 }, { id: 3 }]);
    expect(await leftovers()).toEqual([]);
  });

  it('a dependent view (and its own dependent) survives a table rebuild and sees the new data', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: p\n',
      'models/t_events.sql': `{{ config(materialized='table') }}select id, amount * {{ var('factor', 1) }} as amount from {{ source('raw', 'events') }}`,
    });
    let r = await build(db.pool, await compile(dir), { runId: 't1' });
    expect(r.results[0]).toMatchObject({ status: 'success', rows: 3, action: 'created' });
    await db.pool.query('create view dep1 as select id, amount from t_events');
    await db.pool.query('create view dep2 as select sum(amount) as total from dep1');
    r = await build(db.pool, await compile(dir, { vars: { factor: 2 } }), { runId: 't2' });
    expect(r.results[0]).toMatchObject({ status: 'success', rows: 3, action: 'swapped' });
    expect(await rows('select total::int from dep2')).toEqual([{ total: 120 }]);
    // The views now depend on the new table, not on a dropped backup.
    const deps = await rows(
      `select distinct v.relname from pg_depend d join pg_rewrite w on w.oid = d.objid join pg_class v on v.oid = w.ev_class
       where d.refobjid = 't_events'::regclass and v.relname <> 't_events'`,
    );
    expect(deps).toEqual([{ relname: 'dep1' }]);
    expect(await leftovers()).toEqual([]);
  });

  it('a failing error-severity test keeps the previous table live, skips descendants, and warn tests do not block', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: p\n',
      'models/audited.sql': `{{ config(materialized='table') }}select id, case when id = 2 and {{ var('break', false) }} then null else amount end as amount from {{ source('raw', 'events') }}`,
      'models/downstream.sql': `{{ config(materialized='table') }}select * from {{ ref('audited') }}`,
      'models/schema.yml': [
        'version: 2',
        'models:',
        '  - name: audited',
        '    columns:',
        '      - name: amount',
        '        tests: [not_null]',
        '      - name: id',
        '        tests:',
        '          - accepted_values:',
        '              values: [1, 2]',
        '              quote: false',
        '              config: { severity: warn }',
      ].join('\n'),
    });
    let r = await build(db.pool, await compile(dir), { runId: 'w1' });
    expect(r.results.map((x) => [x.name, x.status]).sort()).toEqual([
      ['accepted_values_audited_id__False__1__2', 'warn'],
      ['audited', 'success'],
      ['downstream', 'success'],
      ['not_null_audited_amount', 'pass'],
    ]);
    expect(r.success).toBe(true);
    r = await build(db.pool, await compile(dir, { vars: { break: true } }), { runId: 'w2' });
    const audit = r.results.find((x) => x.name === 'not_null_audited_amount');
    expect(audit).toMatchObject({ status: 'fail', audit: true, test: { failures: 1 } });
    expect(statusOf(r.results, 'audited')).toBe('error');
    expect(r.results.find((x) => x.name === 'audited')?.message).toMatch(
      /not_null_audited_amount \(fail, 1 failing rows\); not published: the previous version stays in place \(a view still reads rows already loaded into its sources\)$/,
    );
    expect(r.results.find((x) => x.name === 'downstream')).toMatchObject({
      status: 'skipped',
      message: 'skipped: upstream audited error',
    });
    expect(r.success).toBe(false);
    expect(r.hasTestFailures).toBe(true);
    expect(await rows('select count(*)::int as n from audited where amount is null')).toEqual([{ n: 0 }]);
    expect(await rows('select count(*)::int as n from audited')).toEqual([{ n: 3 }]);
    expect(await leftovers()).toEqual([]);
  });

  it('two concurrent builds of the same model do not collide', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: p\n',
      'models/busy.sql': `{{ config(materialized='table') }}select id, amount, pg_sleep(0.05) is not null as slept from {{ source('raw', 'events') }}`,
      'models/busy_view.sql': `select id from {{ ref('busy') }}`,
    });
    const graph = await compile(dir);
    await build(db.pool, graph, { runId: 'c0' });
    const [a, b] = await Promise.all([
      build(db.pool, graph, { runId: 'c1' }),
      build(db.pool, graph, { runId: 'c2' }),
    ]);
    if (!a.success || !b.success) console.error(a.results, b.results);
    expect(a.results.map((x) => x.status)).toEqual(['success', 'success']);
    expect(b.results.map((x) => x.status)).toEqual(['success', 'success']);
    expect(await rows('select count(*)::int as n from busy_view')).toEqual([{ n: 3 }]);
    expect(await leftovers()).toEqual([]);
  });

  it('ephemeral models are inlined and never run', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: p\n',
      'models/eph.sql': `{{ config(materialized='ephemeral') }}select id * 100 as id from {{ source('raw', 'events') }}`,
      'models/uses_eph.sql': `{{ config(materialized='table') }}select * from {{ ref('eph') }}`,
    });
    const r = await build(db.pool, await compile(dir), { runId: 'e1' });
    expect(r.results.map((x) => [x.name, x.status])).toEqual([['uses_eph', 'success']]);
    expect(await rows('select id from uses_eph order by id')).toEqual([
      { id: 100 },
      { id: 200 },
      { id: 300 },
    ]);
    expect(await rows(`select to_regclass('eph') as r`)).toEqual([{ r: null }]);
  });
});

describe('custom generic and singular tests', () => {
  it('a {% test %} block and a singular test gate the publish as audits', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: p\n',
      'macros/tests.sql': `{% test is_positive(model, column_name) %}select * from {{ model }} where {{ column_name }} <= 0{% endtest %}`,
      'tests/assert_few_rows.sql': `select count(*) as n from {{ ref('gated') }} having count(*) > {{ var('max_rows', 10) }}`,
      'models/gated.sql': `{{ config(materialized='table') }}select id, amount - {{ var('shift', 0) }} as amount from {{ source('raw', 'events') }}`,
      'models/schema.yml':
        'version: 2\nmodels:\n  - name: gated\n    columns:\n      - name: amount\n        tests: [is_positive]\n',
    });
    let r = await build(db.pool, await compile(dir), { runId: 'g1' });
    // The singular test reads only `gated`, so it is one of gated's audits too.
    expect(r.results.map((x) => [x.name, x.status, x.audit ?? false]).sort()).toEqual([
      ['assert_few_rows', 'pass', true],
      ['gated', 'success', false],
      ['is_positive_gated_amount', 'pass', true],
    ]);
    r = await build(db.pool, await compile(dir, { vars: { shift: 15, max_rows: 2 } }), { runId: 'g2' });
    expect(r.results.map((x) => [x.name, x.status, x.test?.failures]).sort()).toEqual([
      ['assert_few_rows', 'fail', 1],
      ['gated', 'error', undefined],
      ['is_positive_gated_amount', 'fail', 1],
    ]);
    expect(await rows('select amount from gated order by id')).toEqual([
      { amount: 10 },
      { amount: 20 },
      { amount: 30 },
    ]);
  });
});

describe('incremental', () => {
  const model = (name: string, strategy: string) => ({
    [`models/${name}.sql`]: `{{ config(materialized='incremental', unique_key='id', incremental_strategy='${strategy}') }}
select id, amount, updated from {{ source('raw', 'events') }}
{% if is_incremental() %}where updated > (select coalesce(max(updated), 0) from {{ this }}){% endif %}`,
  });

  it('append, delete+insert and merge apply only new rows; --full-refresh rebuilds', async () => {
    await db.pool.query('create table src_inc (id int, amount int, updated int)');
    await db.pool.query('insert into src_inc values (1, 10, 1), (2, 20, 1)');
    const dir = await writeProject({
      'dbt_project.yml': 'name: p\n',
      ...model('inc_merge', 'merge'),
      ...model('inc_di', 'delete+insert'),
      ...model('inc_append', 'append'),
    });
    const graph = await compile(dir, {
      sources: { raw: { events: { schema: db.schema, identifier: 'src_inc' } } },
    });
    let r = await build(db.pool, graph, { runId: 'i1' });
    r.results.sort((x, y) => (x.name < y.name ? -1 : 1));
    expect(r.results.map((x) => [x.name, x.status, x.rows])).toEqual([
      ['inc_append', 'success', 2],
      ['inc_di', 'success', 2],
      ['inc_merge', 'success', 2],
    ]);
    await db.pool.query('insert into src_inc values (2, 25, 2), (3, 30, 2)');
    r = await build(db.pool, graph, { runId: 'i2' });
    r.results.sort((x, y) => (x.name < y.name ? -1 : 1));
    expect(r.results.map((x) => [x.name, x.action, x.rows])).toEqual([
      ['inc_append', 'append', 2],
      ['inc_di', 'delete+insert', 2],
      ['inc_merge', 'merge', 2],
    ]);
    const merged = [
      { id: 1, amount: 10 },
      { id: 2, amount: 25 },
      { id: 3, amount: 30 },
    ];
    expect(await rows('select id, amount from inc_merge order by id')).toEqual(merged);
    expect(await rows('select id, amount from inc_di order by id')).toEqual(merged);
    expect(await rows('select id, amount from inc_append order by id, amount')).toEqual([
      { id: 1, amount: 10 },
      { id: 2, amount: 20 },
      { id: 2, amount: 25 },
      { id: 3, amount: 30 },
    ]);
    // Re-running with no new rows is stable.
    r = await build(db.pool, graph, { runId: 'i3' });
    r.results.sort((x, y) => (x.name < y.name ? -1 : 1));
    expect(r.results.map((x) => x.rows)).toEqual([0, 0, 0]);
    expect(await rows('select id, amount from inc_merge order by id')).toEqual(merged);
    r = await build(db.pool, graph, { runId: 'i4', fullRefresh: true, select: ['inc_append'] });
    expect(r.results[0]).toMatchObject({ action: 'swapped', rows: 4 });
    expect(await leftovers()).toEqual([]);
  });

  it('a NULL unique_key is a clear error naming the count and the offending keys; nothing is written', async () => {
    await db.pool.query('create table src_nulls (id int, amount int, updated int)');
    await db.pool.query('insert into src_nulls values (1, 10, 1)');
    const dir = await writeProject({
      'dbt_project.yml': 'name: p\n',
      'models/inc_nulls.sql': `{{ config(materialized='incremental', unique_key=['id', 'updated']) }}
select id, amount, updated from {{ source('raw', 'events') }}
{% if is_incremental() %}where updated is null or updated > (select max(updated) from {{ this }}){% endif %}`,
    });
    const graph = await compile(dir, {
      sources: { raw: { events: { schema: db.schema, identifier: 'src_nulls' } } },
    });
    await build(db.pool, graph, { runId: 'n1' });
    await db.pool.query('insert into src_nulls values (7, 70, null), (8, 80, null), (null, 90, 3)');
    const r = await build(db.pool, graph, { runId: 'n2' });
    expect(r.results[0]?.status).toBe('error');
    expect(r.results[0]?.message).toBe(
      'inc_nulls: 3 new row(s) have a NULL in unique_key (id, updated); offending keys: {"id":7,"updated":null}, {"id":8,"updated":null}, {"id":null,"updated":3}; nothing was written',
    );
    expect(r.results[0]?.message).not.toMatch(/70|80|90/);
    expect(await rows('select id from inc_nulls order by id')).toEqual([{ id: 1 }]);
    expect(await leftovers()).toEqual([]);
  });

  it('duplicate keys in a merge batch are refused instead of duplicated', async () => {
    await db.pool.query('create table src_dups (id int, amount int, updated int)');
    await db.pool.query('insert into src_dups values (1, 10, 1)');
    const dir = await writeProject({ 'dbt_project.yml': 'name: p\n', ...model('inc_dups', 'delete+insert') });
    const graph = await compile(dir, {
      sources: { raw: { events: { schema: db.schema, identifier: 'src_dups' } } },
    });
    await build(db.pool, graph, { runId: 'd1' });
    await db.pool.query('insert into src_dups values (5, 1, 2), (5, 2, 2)');
    const r = await build(db.pool, graph, { runId: 'd2' });
    expect(r.results[0]?.message).toMatch(
      /^inc_dups: the new rows repeat unique_key values \(id\): \{"id":5\}/,
    );
    expect(await rows('select id from inc_dups order by id')).toEqual([{ id: 1 }]);
  });
});

describe('DAG execution', () => {
  it('failFast stops scheduling; an aborted signal rejects with ABORTED', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: p\n',
      'models/ff_bad.sql': `{{ config(materialized='table') }}select 1/0 as x`,
      'models/ff_a.sql': 'select 1 as x',
      'models/ff_b.sql': `select * from {{ ref('ff_a') }}`,
    });
    const graph = await compile(dir);
    const r = await build(db.pool, graph, { runId: 'f1', threads: 1, failFast: true });
    expect(r.results.map((x) => [x.name, x.status])).toEqual([
      ['ff_a', 'success'],
      ['ff_bad', 'error'],
      ['ff_b', 'skipped'],
    ]);
    expect(r.results[1]?.message).toMatch(/division by zero/);
    const controller = new AbortController();
    controller.abort();
    await expect(build(db.pool, graph, { runId: 'f2', signal: controller.signal })).rejects.toSatisfy(
      (e) => e instanceof ModelingError && e.code === 'ABORTED',
    );
  });

  it('the audits of a model that fails to build, and of a skipped model, are reported as skipped', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: p\n',
      'models/sk_bad.sql': `{{ config(materialized='table') }}select 1/0 as x`,
      'models/sk_child.sql': `{{ config(materialized='table') }}select * from {{ ref('sk_bad') }}`,
      'models/schema.yml': `version: 2
models:
  - name: sk_bad
    columns: [{ name: x, tests: [not_null] }]
  - name: sk_child
    columns: [{ name: x, tests: [not_null] }]
`,
    });
    const graph = await compile(dir);
    const r = await build(db.pool, graph, { runId: 'sk1', threads: 1 });
    const byName = Object.fromEntries(r.results.map((x) => [x.name, x]));
    expect(byName.sk_bad?.status).toBe('error');
    expect(byName.not_null_sk_bad_x).toMatchObject({
      status: 'skipped',
      audit: true,
      message: 'sk_bad failed before its audit',
    });
    expect(byName.sk_child?.status).toBe('skipped');
    expect(byName.not_null_sk_child_x).toMatchObject({ status: 'skipped', audit: true });
    expect(byName.not_null_sk_child_x?.message).toBe(byName.sk_child?.message);
    expect(r.results).toHaveLength(4);
  });

  it('aborting mid-build cancels the running statement, drops the temp relation and rejects with ABORTED', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: p\n',
      'models/slow.sql': `{{ config(materialized='table') }}select pg_sleep(20) is null as slept`,
      'models/after_slow.sql': `select * from {{ ref('slow') }}`,
    });
    const graph = await compile(dir);
    const controller = new AbortController();
    const seen: NodeResult[] = [];
    const started = performance.now();
    const running = build(db.pool, graph, {
      runId: 'a1',
      signal: controller.signal,
      onNodeResult: (r) => seen.push(r),
    });
    setTimeout(() => controller.abort(), 300);
    await expect(running).rejects.toMatchObject({ name: 'ModelingError', code: 'ABORTED' });
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(seen.map((r) => [r.name, r.status])).toEqual([
      ['slow', 'error'],
      ['after_slow', 'skipped'],
    ]);
    expect(seen[0]?.message).toMatch(/cancel/i);
    expect(await rows(`select to_regclass('slow') as r`)).toEqual([{ r: null }]);
    expect(await leftovers()).toEqual([]);
  });
});
