import { useTestDatabase } from '@dataflow/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { assertCompiled, build, compileProject } from '../src/index.js';
import { relationAsCsv, writeProject } from './helpers.js';

const db = useTestDatabase();

async function buildWith(dir: string, vars: Record<string, unknown>, fullRefresh = false) {
  const compiled = await compileProject({ dir, schema: db.schema, vars });
  const graph = assertCompiled(compiled);
  return build(db.pool, graph, {
    runId: `r${Math.random()}`,
    threads: 1,
    fullRefresh,
    renderer: compiled.renderer,
  });
}

const failures = (r: Awaited<ReturnType<typeof buildWith>>) =>
  r.results.filter((x) => x.status !== 'success').map((x) => `${x.name}: ${x.message}`);

async function columnsOf(table: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ c: string }>(
    `select column_name || ' ' || data_type as c from information_schema.columns
      where table_schema = $1 and table_name = $2 order by ordinal_position`,
    [db.schema, table],
  );
  return rows.map((r) => r.c);
}

describe('+on_schema_change for incremental models', () => {
  it('fail names the columns and keeps the table; append_new_columns adds; sync_all_columns drops and retypes under a dependent view', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop',
      'models/inc.sql': [
        "{{ config(materialized='incremental', unique_key='id', on_schema_change=var('osc')) }}",
        "{% if var('v') == 1 %}select 1 as id, 'a'::varchar(5) as name",
        "{% elif var('v') == 2 %}select 2 as id, 'b'::text as name, 10 as extra",
        "{% else %}select 3 as id, 'c'::text as name{% endif %}",
      ].join('\n'),
      'models/inc_ids.sql': "select id from {{ ref('inc') }}",
    });
    expect(failures(await buildWith(dir, { osc: 'fail', v: 1 }))).toEqual([]);

    const failed = await buildWith(dir, { osc: 'fail', v: 2 });
    const inc = failed.results.find((r) => r.name === 'inc');
    expect(inc?.status).toBe('error');
    expect(inc?.message).toContain('new columns extra (integer)');
    expect(inc?.message).toContain('changed types name character varying(5) → text');
    expect(inc?.message).toContain('on_schema_change is fail');
    expect(failed.results.find((r) => r.name === 'inc_ids')?.status).toBe('skipped');
    expect(await columnsOf('inc')).toEqual(['id integer', 'name character varying']);

    expect(failures(await buildWith(dir, { osc: 'append_new_columns', v: 2 }))).toEqual([]);
    expect(await columnsOf('inc')).toEqual(['id integer', 'name character varying', 'extra integer']);
    expect(await relationAsCsv(db.pool, `"${db.schema}"."inc"`, 'id')).toEqual([
      'id,name,extra',
      '1,a,',
      '2,b,10',
    ]);

    expect(failures(await buildWith(dir, { osc: 'sync_all_columns', v: 3 }))).toEqual([]);
    expect(await columnsOf('inc')).toEqual(['id integer', 'name text']);
    expect(await relationAsCsv(db.pool, `"${db.schema}"."inc"`, 'id')).toEqual([
      'id,name',
      '1,a',
      '2,b',
      '3,c',
    ]);
    expect(await relationAsCsv(db.pool, `"${db.schema}"."inc_ids"`, 'id')).toEqual(['id', '1', '2', '3']);
  });
});

describe('+grants, +persist_docs and +full_refresh', () => {
  // Roles are cluster-wide: names unique to this run, dropped afterwards.
  const suffix = `${process.pid}_${Date.now()}`;
  const reader = `df_reader_${suffix}`;
  const analyst = `df_analyst_${suffix}`;
  afterAll(async () => {
    await db.pool.query(`drop owned by "${reader}", "${analyst}"`).catch(() => undefined);
    await db.pool.query(`drop role if exists "${reader}"`);
    await db.pool.query(`drop role if exists "${analyst}"`);
  });

  it('grants exactly the configured grantees per privilege (revoking the others) and comments relation and columns', async () => {
    await db.pool.query(`create role "${reader}"`);
    await db.pool.query(`create role "${analyst}"`);
    const dir = await writeProject({
      'dbt_project.yml': [
        'name: shop',
        'models:',
        '  shop:',
        '    +persist_docs: { relation: true, columns: true }',
      ].join('\n'),
      'models/schema.yml': [
        'version: 2',
        'models:',
        '  - name: orders',
        "    description: One row per order, it's documented",
        '    columns:',
        '      - name: id',
        '        description: The order id',
        '      - name: gone',
        '        description: Not in the relation',
        '  - name: orders_v',
        '    description: A view of orders',
      ].join('\n'),
      'models/orders.sql':
        "{{ config(materialized='table', grants={'select': [var('grantee')]}) }} select 1 as id, 'x' as code",
      'models/orders_v.sql':
        "{{ config(grants={'select': [var('grantee')]}) }} select id from {{ ref('orders') }}",
      'models/events.sql':
        "{{ config(materialized='incremental', grants={'select': [var('grantee')], 'insert': []}) }} select {{ var('n') }} as n",
    });
    expect(failures(await buildWith(dir, { grantee: reader, n: 1 }))).toEqual([]);
    const privileges = async (role: string) =>
      (
        await db.pool.query<{ t: boolean; v: boolean; e: boolean }>(
          `select has_table_privilege($1, $2, 'select') as t, has_table_privilege($1, $3, 'select') as v,
                  has_table_privilege($1, $4, 'select') as e`,
          [role, `"${db.schema}"."orders"`, `"${db.schema}"."orders_v"`, `"${db.schema}"."events"`],
        )
      ).rows[0];
    expect(await privileges(reader)).toEqual({ t: true, v: true, e: true });
    expect(await privileges(analyst)).toEqual({ t: false, v: false, e: false });
    const comments = await db.pool.query(
      `select obj_description($1::regclass, 'pg_class') as rel, col_description($1::regclass, 1) as id,
              col_description($1::regclass, 2) as code, obj_description($2::regclass, 'pg_class') as view`,
      [`"${db.schema}"."orders"`, `"${db.schema}"."orders_v"`],
    );
    expect(comments.rows).toEqual([
      { rel: "One row per order, it's documented", id: 'The order id', code: null, view: 'A view of orders' },
    ]);

    // The config is the full set for `select`: the reader loses it on the swapped table, the replaced
    // view and the incremental table alike.
    expect(failures(await buildWith(dir, { grantee: analyst, n: 2 }))).toEqual([]);
    expect(await privileges(reader)).toEqual({ t: false, v: false, e: false });
    expect(await privileges(analyst)).toEqual({ t: true, v: true, e: true });
    expect(await relationAsCsv(db.pool, `"${db.schema}"."events"`, 'n')).toEqual(['n', '1', '2']);
  });

  it('a model-level full_refresh overrides --full-refresh both ways', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop',
      'models/always.sql':
        "{{ config(materialized='incremental', full_refresh=true) }} select {{ var('n') }} as n",
      'models/never.sql':
        "{{ config(materialized='incremental', full_refresh=false) }} select {{ var('n') }} as n",
      'models/flag.sql': "{{ config(materialized='incremental') }} select {{ var('n') }} as n",
    });
    expect(failures(await buildWith(dir, { n: 1 }))).toEqual([]);
    expect(failures(await buildWith(dir, { n: 2 }))).toEqual([]);
    expect(failures(await buildWith(dir, { n: 3 }, true))).toEqual([]);
    const rows = (t: string) => relationAsCsv(db.pool, `"${db.schema}"."${t}"`, 'n');
    expect(await rows('always')).toEqual(['n', '3']);
    expect(await rows('never')).toEqual(['n', '1', '2', '3']);
    expect(await rows('flag')).toEqual(['n', '3']);
  });
});
