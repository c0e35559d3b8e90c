import { describe, expect, it } from 'vitest';
import { compileProject, type ModelNode } from '../src/index.js';
import { writeProject } from './helpers.js';

const model = (graph: { nodes: Record<string, unknown> }, name: string) =>
  graph.nodes[`model.shop.${name}`] as ModelNode;

describe('dbt Jinja in a compiled project', () => {
  it('renders Python values, list/dict methods, namespace, return() and this parts as dbt does', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\nvars:\n  flags: {full: true}\n',
      'macros/cols.sql': [
        '{% macro money_cols(prefix) %}',
        '{%- set out = [] -%}',
        "{%- for c in ['a', 'b'] %}{% do out.append(prefix ~ c) %}{% endfor -%}",
        '{{ return(out) }}',
        '{% endmacro %}',
      ].join('\n'),
      'models/m.sql': [
        "{{ config(materialized='table', tags=['x', 'y'],) }}",
        "{%- if config.get('materialized') != 'table' or config.get('nope', 'd') != 'd' %}wrong{% endif -%}",
        '{%- set ns = namespace(seen=false) -%}',
        "{%- for c in money_cols('amt_') if c.endswith('b') %}{% set ns.seen = true %}{% endfor -%}",
        "select {{ money_cols('amt_') | join(', ') }}, {{ ns.seen }} as seen, {{ None }} as n,",
        "  '{{ this.schema }}.{{ this.identifier }}' as me, {{ var('flags').full }} as full,",
        "  {{ {'k': [1, 2.0]} }} as d",
      ].join('\n'),
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(diagnostics).toEqual([]);
    expect(model(graph, 'm').compiledSql).toBe(
      [
        'select amt_a, amt_b, True as seen, None as n,',
        "  'analytics.m' as me, True as full,",
        "  {'k': [1, 2.0]} as d",
      ].join('\n'),
    );
    expect(model(graph, 'm').config).toMatchObject({ materialized: 'table', tags: ['x', 'y'] });
  });

  it('reports a template error with the model file and line, and still compiles the others', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\n',
      'models/bad.sql': 'select 1\n{% for x in 3 %}{% endfor %}',
      'models/good.sql': 'select {{ [1, 2] | length }} as n',
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(diagnostics.map((d) => [d.code, d.file, d.line, d.message])).toEqual([
      ['TEMPLATE_ERROR', 'models/bad.sql', 2, "'int' object is not iterable"],
    ]);
    expect(model(graph, 'good').compiledSql).toBe('select 2 as n');
  });

  it('dispatches the dbt namespace to project overrides first, then the built-in macros', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\n',
      'macros/overrides.sql': [
        '{% macro default__any_value(e) %}first_value({{ e }}){% endmacro %}',
        "{% macro postgres__type_string() %}{{ return('varchar') }}{% endmacro %}",
      ].join('\n'),
      'models/m.sql': [
        "select {{ dbt.any_value('x') }}, {{ dbt.type_string() }}, {{ dbt.date_trunc('day', 'd') }},",
        "  {{ adapter.dispatch('bool_or', 'dbt')('f') }}, {{ dbt.datediff('a', 'b', 'day') }}",
      ].join('\n'),
      'models/bad.sql': "select {{ adapter.dispatch('nope', 'dbt')() }}",
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(model(graph, 'm').compiledSql).toBe(
      "select first_value(x), varchar, date_trunc('day', d),\n  bool_or(f), ((b)::date - (a)::date)",
    );
    expect(diagnostics.map((d) => [d.file, d.message.split('\n')[0]])).toEqual([
      ['models/bad.sql', "In dispatch: No macro named 'nope' found within namespace: 'dbt'"],
    ]);
  });

  it('include / import / from-import load project files by path from the root or a macro path', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\n',
      'macros/lib/columns.sql': "{% macro keys() %}id, kind{% endmacro %}{% set table_prefix = 'fct_' %}",
      'templates/where.sql': "where kind = '{{ kind }}'",
      'models/m.sql': [
        "{% import 'lib/columns.sql' as cols %}{% from 'macros/lib/columns.sql' import keys %}",
        "{% set kind = 'a' %}select {{ cols.keys() }}, '{{ cols.table_prefix }}' as p from {{ ref('n') }}",
        "{% include 'templates/where.sql' %} -- {{ keys() }}",
      ].join('\n'),
      'models/n.sql': 'select 1 as id, 2 as kind',
      'models/bad.sql': "{% include '../../etc/passwd' %}",
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(model(graph, 'm').compiledSql).toBe(
      `\nselect id, kind, 'fct_' as p from "analytics"."n"\nwhere kind = 'a' -- id, kind`,
    );
    expect(diagnostics.map((d) => [d.node, d.code, d.message])).toEqual([
      ['bad', 'TEMPLATE_ERROR', expect.stringContaining('../../etc/passwd')],
    ]);
  });
});
