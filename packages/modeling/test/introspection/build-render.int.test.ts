import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtPackagesFixture, useTestDatabase } from '@dataflow/testkit';
import { describe, expect, it } from 'vitest';
import { assertCompiled, build, compileProject } from '../../src/index.js';
import { createPgIntrospector } from '../../src/introspection/pg-introspector.js';
import { relationAsCsv, writeProject } from '../helpers.js';

const db = useTestDatabase();

async function withDbtUtils(files: Record<string, string>): Promise<string> {
  const dir = await writeProject({ 'dbt_project.yml': 'name: shop', ...files });
  await mkdir(join(dir, 'dbt_packages'));
  await symlink(join(dbtPackagesFixture(), 'dbt_utils'), join(dir, 'dbt_packages', 'dbt_utils'), 'dir');
  return dir;
}

const squash = (sql: string) => sql.replace(/\s+/g, ' ').trim();

describe('build-time render with execute true (dbt_utils over the shared fixture)', () => {
  it('renders star, get_column_values + pivot, get_query_results_as_dict and union_relations against the parents just built', async () => {
    const dir = await withDbtUtils({
      'seeds/events.csv': 'id,kind,amount\n1,a,10\n1,b,11\n2,b,5\n3,c,7\n',
      'models/base.sql':
        "{{ config(materialized='table') }} select id::int as id, kind::varchar(10) as kind, amount::numeric(10,2) as amount, 'x'::varchar(5) as code from {{ ref('events') }}",
      'models/starred.sql':
        "select {{ dbt_utils.star(ref('base'), except=['code']) }} from {{ ref('base') }}",
      'models/pivoted.sql':
        "select id, {{ dbt_utils.pivot('kind', dbt_utils.get_column_values(ref('base'), 'kind', order_by='kind')) }} from {{ ref('base') }} group by id",
      'models/as_dict.sql': [
        "{% set d = dbt_utils.get_query_results_as_dict('select kind, sum(amount)::int as total from ' ~ ref('base') ~ ' group by kind order by kind') %}",
        "select {% for k in d.get('kind', []) %}{{ d['total'][loop.index0] }} as total_{{ k }}, {% endfor %}1 as one",
      ].join('\n'),
      'models/unioned.sql': "{{ dbt_utils.union_relations([ref('base'), ref('starred')]) }}",
    });
    const compiled = await compileProject({ dir, schema: db.schema });
    const graph = assertCompiled(compiled);
    // Compile time stays database-free: execute is false, so star is `*` and the pivot has no values.
    const compiledSql = (name: string) =>
      (graph.nodes[`model.shop.${name}`] as { compiledSql: string }).compiledSql;
    expect(squash(compiledSql('starred'))).toBe(`select * from "${db.schema}"."base"`);

    const result = await build(db.pool, graph, { runId: 'r1', threads: 2, renderer: compiled.renderer });
    expect(result.results.filter((r) => r.status !== 'success').map((r) => [r.name, r.message])).toEqual([]);

    const { renderer } = compiled;
    const sqlOf = async (name: string) =>
      (await renderer.render(`model.shop.${name}`, false, createPgIntrospector(db.pool))).sql;
    const base = `"${db.schema}"."base"`;
    expect(squash(await sqlOf('starred'))).toBe(`select "id", "kind", "amount" from ${base}`);
    expect(await relationAsCsv(db.pool, `"${db.schema}"."starred"`, 'id, kind')).toEqual([
      'id,kind,amount',
      '1,a,10.00',
      '1,b,11.00',
      '2,b,5.00',
      '3,c,7.00',
    ]);
    const pivot = squash(await sqlOf('pivoted'));
    expect(pivot).toContain(`sum( case when kind = 'a' then 1 else 0 end ) as "a"`);
    expect(pivot).toContain(`sum( case when kind = 'c' then 1 else 0 end ) as "c"`);
    expect(await relationAsCsv(db.pool, `"${db.schema}"."pivoted"`, 'id')).toEqual([
      'id,a,b,c',
      '1,1,1,0',
      '2,0,1,0',
      '3,0,0,1',
    ]);
    expect(squash(await sqlOf('as_dict'))).toBe(
      'select 10 as total_a, 16 as total_b, 7 as total_c, 1 as one',
    );
    expect(await relationAsCsv(db.pool, `"${db.schema}"."as_dict"`, '1')).toEqual([
      'total_a,total_b,total_c,one',
      '10,16,7,1',
    ]);
    const unioned = squash(await sqlOf('unioned'));
    expect(unioned).toContain(`( select cast('${base}' as TEXT) as _dbt_source_relation, /* No columns`);
    expect(unioned).toContain(
      `exists to keep SQLFluff happy. */ cast("id" as integer) as "id" , cast("kind" as character varying(10)) as "kind" , cast("amount" as numeric(10,2)) as "amount" , cast("code" as character varying(5)) as "code" from ${base}`,
    );
    expect(unioned).toContain(`cast(null as character varying(5)) as "code" from "${db.schema}"."starred"`);
    expect(await relationAsCsv(db.pool, `"${db.schema}"."unioned"`, '1, id, kind')).toEqual([
      '_dbt_source_relation,id,kind,amount,code',
      `"${db.schema}"."base",1,a,10.00,x`,
      `"${db.schema}"."base",1,b,11.00,x`,
      `"${db.schema}"."base",2,b,5.00,x`,
      `"${db.schema}"."base",3,c,7.00,x`,
      `"${db.schema}"."starred",1,a,10.00,`,
      `"${db.schema}"."starred",1,b,11.00,`,
      `"${db.schema}"."starred",2,b,5.00,`,
      `"${db.schema}"."starred",3,c,7.00,`,
    ]);
  });

  it('gives run_query results as agate tables and relations / columns from the catalog', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop',
      'models/src.sql':
        "{{ config(materialized='table') }} select id::int as id, kind::text as kind, amount::numeric(4,1) as amount from (values (1, 'a', 2.5), (2, 'b', 3.0)) v(id, kind, amount)",
      'models/rows.sql': [
        "{% set results = run_query('select id, kind from ' ~ ref('src') ~ ' order by id') %}",
        '{% if execute %}{% do results.print_table() %}',
        "select {% for row in results %}{{ row['id'] }} as id_{{ loop.index }}, '{{ row.kind }}' as kind_{{ loop.index }}, {% endfor %}",
        "{{ results.rows[1][0] }} as second_id, {{ results.columns[1].values() | length }} as n, '{{ results.column_names | join('|') }}' as names",
        '{% else %}select 1 as placeholder{% endif %}',
      ].join('\n'),
      'models/catalog.sql': [
        "{% set r = adapter.get_relation(database=none, schema=this.schema, identifier='src') %}",
        "{% set missing = load_relation(api.Relation.create(schema=this.schema, identifier='nope')) %}",
        "{% set cols = adapter.get_columns_in_relation(ref('src')) %}",
        "select '{{ r.type }}' as t, {{ missing is none }} as missing, '{{ cols | map(attribute='data_type') | join(',') }}' as types,",
        "'{{ cols | map(attribute='quoted') | join(',') }}' as quoted, {{ cols | selectattr('numeric_precision') | list | length }} as n,",
        "'{{ api.Relation.create(schema='s', identifier='t').include(schema=false) }}' as rendered",
      ].join('\n'),
    });
    const compiled = await compileProject({ dir, schema: db.schema });
    const graph = assertCompiled(compiled);
    expect(squash((graph.nodes['model.shop.rows'] as { compiledSql: string }).compiledSql)).toBe(
      'select 1 as placeholder',
    );
    const logged: string[] = [];
    const result = await build(db.pool, graph, {
      runId: 'r2',
      renderer: compiled.renderer,
      logger: {
        debug: () => {},
        info: () => {},
        warn: () => {},
        error: () => {},
      },
    });
    expect(result.results.filter((r) => r.status !== 'success').map((r) => [r.name, r.message])).toEqual([]);
    expect(logged).toEqual([]);
    expect(await relationAsCsv(db.pool, `"${db.schema}"."rows"`, '1')).toEqual([
      'id_1,kind_1,id_2,kind_2,second_id,n,names',
      '1,a,2,b,2,2,id|kind',
    ]);
    expect(await relationAsCsv(db.pool, `"${db.schema}"."catalog"`, '1')).toEqual([
      't,missing,types,quoted,n,rendered',
      'table,true,integer,text,numeric(4,1),"id","kind","amount",2,"t"',
    ]);
  });

  it('runs statements with side effects once, and gives get_single_value, unpivot, get_relations_by_pattern and the adapter listing', async () => {
    const { rows } = await db.pool.query<{ db: string }>('select current_database() as db');
    const database = rows[0]?.db as string;
    const dir = await withDbtUtils({
      'models/wide.sql':
        "{{ config(materialized='table') }} select 1 as id, 2 as a, true as flag union all select 2, 5, false",
      'models/narrow.sql': "{{ config(materialized='table') }} select 1 as id",
      'models/facts.sql': [
        '{% if execute %}',
        "{% call statement('side', fetch_result=false) %}create table if not exists {{ this.schema }}.side_effects (n int); insert into {{ this.schema }}.side_effects values (1){% endcall %}",
        '{% endif %}',
        "{% set total = dbt_utils.get_single_value('select sum(a) from ' ~ ref('wide'), default=0) %}",
        "{% set found = dbt_utils.get_relations_by_pattern(this.schema, 'wid%', database=var('db')) %}",
        "{% set listed = adapter.list_relations_without_caching(api.Relation.create(schema=this.schema)) | map(attribute='identifier') | select('in', ['wide', 'narrow']) | list | sort %}",
        "{% set missing = adapter.get_missing_columns(ref('wide'), ref('narrow')) | map(attribute='name') | list %}",
        "select {{ total }} as total, '{{ found | join(',') }}' as found, '{{ found[0].type if found else '' }}' as found_type,",
        "'{{ listed | join(',') }}' as listed, '{{ missing | join(',') }}' as missing,",
        "'{{ load_result('side').response if execute else '' }}' as response",
      ].join('\n'),
      'models/unpivoted.sql': "{{ dbt_utils.unpivot(ref('wide'), cast_to='text', exclude=['id']) }}",
    });
    const compiled = await compileProject({ dir, schema: db.schema, vars: { db: database } });
    const result = await build(db.pool, assertCompiled(compiled), {
      runId: 'r3',
      threads: 2,
      renderer: compiled.renderer,
    });
    expect(result.results.filter((r) => r.status !== 'success').map((r) => [r.name, r.message])).toEqual([]);
    // The statement ran once although the render took more than one pass.
    expect(await relationAsCsv(db.pool, `"${db.schema}"."side_effects"`, 'n')).toEqual(['n', '1']);
    expect(await relationAsCsv(db.pool, `"${db.schema}"."facts"`, '1')).toEqual([
      'total,found,found_type,listed,missing,response',
      `7,"${database}"."${db.schema}"."wide",table,narrow,wide,a,flag,INSERT 1`,
    ]);
    expect(await relationAsCsv(db.pool, `"${db.schema}"."unpivoted"`, 'id, field_name')).toEqual([
      'id,field_name,value',
      '1,a,2',
      '1,flag,true',
      '2,a,5',
      '2,flag,false',
    ]);
  });

  it('reports a build-time template error with its file and line, and a query error with its SQLSTATE message; children are skipped', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop',
      'models/bad.sql': [
        'select 1 as id',
        "{% if execute %}{{ exceptions.raise_compiler_error('no rows for ' ~ this.identifier) }}{% endif %}",
      ].join('\n'),
      'models/bad_query.sql': "{% set r = run_query('select nope') %}select 1 as id",
      'models/child.sql': "select id from {{ ref('bad') }} union all select id from {{ ref('bad_query') }}",
    });
    const compiled = await compileProject({ dir, schema: db.schema });
    const result = await build(db.pool, assertCompiled(compiled), {
      runId: 'r4',
      renderer: compiled.renderer,
    });
    const byName = new Map(result.results.map((r) => [r.name, r]));
    expect(byName.get('bad')?.status).toBe('error');
    expect(byName.get('bad')?.message).toBe(
      'models/bad.sql:2: build-time render (execute true) failed: no rows for bad',
    );
    expect(byName.get('bad_query')?.status).toBe('error');
    expect(byName.get('bad_query')?.message).toBe('column "nope" does not exist');
    expect(byName.get('child')?.status).toBe('skipped');
    const left = await db.pool.query(
      'select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname in ($2, $3)',
      [db.schema, 'bad', 'bad_query'],
    );
    expect(left.rowCount).toBe(0);
  });
});
