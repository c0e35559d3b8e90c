import { describe, expect, it } from 'vitest';
import { compileProject, type ModelNode } from '../src/index.js';
import { outputsContextDirectly } from '../src/jinja.js';
import { writeProject } from './helpers.js';

const model = (graph: { nodes: Record<string, unknown> }, name: string) =>
  graph.nodes[`model.shop.${name}`] as ModelNode;

describe('outputsContextDirectly (models rendered once, refs substituted)', () => {
  it.each([
    [`select * from {{ ref('a') }} join {{- ref("pkg", 'b') -}} x join {{ source('r', 't') }} y`, true],
    [`{% set ks = [0, 1] %}{% for k in ks %}{{ k }}{% if not loop.last %},{% endif %}{% endfor %}`, true],
    [`{{ config(materialized='table') }}{{ bump('a') }} from {{ ref('a') }} -- {{this}}`, true],
    [`{% if is_incremental() %}where x > (select max(x) from {{ this }}){% else %}{% endif %}`, true],
  ])('accepts %s', (source, expected) => {
    expect(outputsContextDirectly(source)).toBe(expected);
  });

  it.each([
    [`{{ ref('a') | upper }}`],
    [`{{ bump(ref('a')) }}`],
    [`{% set r = ref('a') %}{{ r }}`],
    [`{% set r %}{{ ref('a') }}{% endset %}{{ r }}`],
    [`{% filter upper %}{{ ref('a') }}{% endfilter %}`],
    [`{% macro m() %}{{ ref('a') }}{% endmacro %}{{ m() }}`],
    [`{% call m() %}x{% endcall %}`],
    [`{% raw %}{{ ref('a') }}{% endraw %}`],
    [`{{ this.schema }}`],
    [`select 1 -- this mentions the word`],
    [`{{ ref('it\\'s') }}`],
    [`select '\uE000'`],
  ])('declines %s', (source) => {
    expect(outputsContextDirectly(source)).toBe(false);
  });
});

describe('single render of models', () => {
  it('gives the same SQL as rendering twice: tables, ephemerals, sources, this, loops, unknown refs', async () => {
    const body = [
      `{{ config(materialized='table') }}`,
      `{% set parts = ['a', 'b'] %}`,
      `select {{ dollars('amount') }} as amount, '{{ this }}' as me,`,
      `{% for p in parts %}'{{ p }}' as {{ p }}{% if not loop.last %},{% endif %}{% endfor %}`,
      `from {{ ref('base') }} join {{- ref('eph') -}} using (id)`,
      `join {{ source('raw', 'orders') }} using (id)`,
      `{% for i in [1, 2] %} join {{ ref('base') }} as b{{ i }} using (id){% endfor %}`,
      `left join {{ ref('missing') }} using (id)`,
    ].join('\n');
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\n',
      'macros/money.sql': `{% macro dollars(col) %}({{ col }} / 100){% endmacro %}`,
      'models/base.sql': `select 1 as id, 100 as amount`,
      'models/eph.sql': `{{ config(materialized='ephemeral') }}select 1 as id`,
      'models/once.sql': body,
      // The comment mentions `this`: the template is rendered twice, the way every model was before.
      'models/twice.sql': `${body}{# this #}`,
    });
    const { graph, diagnostics } = await compileProject({
      dir,
      schema: 'analytics',
      sources: { raw: { orders: { schema: 'landing', identifier: 'raw_orders' } } },
    });
    expect(diagnostics.map((d) => `${d.node} ${d.code}`).sort()).toEqual([
      'once UNKNOWN_REF',
      'twice UNKNOWN_REF',
    ]);
    const once = model(graph, 'once');
    const twice = model(graph, 'twice');
    expect(once.compiledSql).toBe(twice.compiledSql.replaceAll('"twice"', '"once"'));
    expect(once.compiledSql).toBe(
      [
        'with __dbt__cte__eph as (',
        'select 1 as id',
        ')',
        '',
        '',
        `select (amount / 100) as amount, '"analytics"."once"' as me,`,
        `'a' as a,'b' as b`,
        'from "analytics"."base" join__dbt__cte__ephusing (id)',
        'join "landing"."raw_orders" using (id)',
        ' join "analytics"."base" as b1 using (id) join "analytics"."base" as b2 using (id)',
        'left join __df_ref__missing__ using (id)',
      ].join('\n'),
    );
    expect(once.dependsOn.sort()).toEqual(twice.dependsOn.sort());
  });

  it('renders twice when the template captures and transforms ref() output', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\n',
      'models/base.sql': `select 1 as id`,
      'models/base_v2.sql': `select 2 as id`,
      'models/by_set.sql': `{% set r %}{{ ref('base') }}{% endset %}select * from {{ r | replace('base', 'base_v2') }}`,
      'models/by_filter.sql': `select * from {% filter replace('base', 'base_v2') %}{{ ref('base') }}{% endfilter %}`,
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(diagnostics).toEqual([]);
    for (const name of ['by_set', 'by_filter'])
      expect(model(graph, name).compiledSql, name).toBe('select * from "analytics"."base_v2"');
  });

  it('renders twice when a project macro calls ref()', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\n',
      'macros/versioned.sql': `{% macro versioned(name) %}{{ ref(name) | replace('base', 'base_v2') }}{% endmacro %}`,
      'models/base.sql': `select 1 as id`,
      'models/base_v2.sql': `select 2 as id`,
      'models/by_macro.sql': `select * from {{ versioned('base') }}`,
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(diagnostics).toEqual([]);
    expect(model(graph, 'by_macro').compiledSql).toBe('select * from "analytics"."base_v2"');
    expect(model(graph, 'by_macro').dependsOn).toEqual(['model.shop.base']);
  });
});
