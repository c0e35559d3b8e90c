import { useTestDatabase } from '@dataflow/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { assertCompiled, build, compileProject } from '../src/index.js';
import { relationAsCsv, writeProject } from './helpers.js';

const db = useTestDatabase();
const extraSchemas: string[] = [];
afterEach(async () => {
  for (const s of extraSchemas.splice(0)) await db.pool.query(`drop schema if exists "${s}" cascade`);
});

describe('naming overrides and seed options on PostgreSQL', () => {
  it("builds models and seeds where the project's generate_schema_name / generate_alias_name say", async () => {
    const marts = `${db.schema}_marts`;
    const seeds = `${db.schema}_seeds`;
    extraSchemas.push(marts, seeds);
    const dir = await writeProject({
      'dbt_project.yml': [
        'name: shop',
        'models:',
        '  shop:',
        '    marts:',
        '      +schema: marts',
        '      +materialized: table',
        'seeds:',
        '  shop:',
        '    +schema: seeds',
        `    +enabled: "{{ target.name != 'ci' }}"`,
      ].join('\n'),
      'macros/naming.sql': [
        '{% macro generate_alias_name(custom_alias_name=none, node=none) -%}',
        "  {%- if node.resource_type == 'model' and custom_alias_name is none -%} m_{{ node.name }}",
        '  {%- else -%} {{ custom_alias_name or node.name }}{%- endif -%}',
        '{%- endmacro %}',
      ].join('\n'),
      'models/marts/orders.sql': "select id, amount * 2 as doubled from {{ ref('raw_orders') }}",
      'models/marts/totals.sql':
        "{{ config(alias='order_totals') }}select sum(doubled)::int as total from {{ ref('orders') }}",
      'seeds/raw_orders.csv': 'id;Amount\n1;10\n2;20\n',
      'seeds/schema.yml': [
        'version: 2',
        'seeds:',
        '  - name: raw_orders',
        '    config:',
        "      delimiter: ';'",
        '      quote_columns: false',
        '      column_types: { amount: bigint }',
      ].join('\n'),
    });
    const graph = assertCompiled(await compileProject({ dir, schema: db.schema }));
    const r = await build(db.pool, graph, { runId: 'names1', threads: 2 });
    expect(r.results.map((x) => [x.name, x.status]).sort()).toEqual([
      ['orders', 'success'],
      ['raw_orders', 'success'],
      ['totals', 'success'],
    ]);
    const columns = await db.pool.query(
      `select column_name, data_type from information_schema.columns
        where table_schema = $1 and table_name = 'raw_orders' order by ordinal_position`,
      [seeds],
    );
    expect(columns.rows).toEqual([
      { column_name: 'id', data_type: 'integer' },
      { column_name: 'amount', data_type: 'bigint' },
    ]);
    expect(await relationAsCsv(db.pool, `"${marts}"."m_orders"`, 'id')).toEqual([
      'id,doubled',
      '1,20',
      '2,40',
    ]);
    expect(await relationAsCsv(db.pool, `"${marts}"."order_totals"`, 'total')).toEqual(['total', '60']);
    const inTarget = await db.pool.query(
      `select table_name from information_schema.tables where table_schema = $1`,
      [db.schema],
    );
    expect(inTarget.rows).toEqual([]);

    // The same project for target `ci` has no seeds: the models' ref is unknown.
    const ci = await compileProject({ dir, schema: db.schema, target: { name: 'ci' } });
    expect(Object.keys(ci.graph.nodes).filter((id) => id.startsWith('seed.'))).toEqual([]);
    expect(ci.diagnostics.map((d) => `${d.node} ${d.code}`)).toEqual(['orders UNKNOWN_REF']);
  });
});
