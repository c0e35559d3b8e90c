import { describe, expect, it } from 'vitest';
import { compileProject, type ModelNode } from '../src/index.js';
import { writeProject } from './helpers.js';

const compiled = (graph: { nodes: Record<string, unknown> }, id: string) =>
  (graph.nodes[id] as ModelNode | undefined)?.compiledSql;

describe('dbt context that heavy-Jinja packages read', () => {
  it("reaches the root project's macros through its project name, as packages written to be run as root do", async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\n',
      'macros/money.sql': [
        "{% macro text_type() %}{{ return(adapter.dispatch('text_type', 'shop')()) }}{% endmacro %}",
        "{% macro default__text_type() %}{{ return('varchar') }}{% endmacro %}",
        '{% macro cents(c) %}({{ c }} * 100)::{{ shop.text_type() }}{% endmacro %}',
      ].join('\n'),
      'models/m.sql':
        "select {{ shop.cents('amount') }} as c, {{ adapter.dispatch('text_type', 'shop')() }} as t",
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(diagnostics).toEqual([]);
    expect(compiled(graph, 'model.shop.m')).toBe('select (amount * 100)::varchar as c, varchar as t');
  });

  it('treats a config value of None as not set (a macro that answers none for the default strategy)', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\n',
      'macros/strategy.sql': '{% macro default_strategy() %}{% do return(none) %}{% endmacro %}',
      'models/m.sql':
        "{{ config(materialized='incremental', incremental_strategy=default_strategy(), unique_key=none) }}select 1 as id",
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(diagnostics).toEqual([]);
    expect((graph.nodes['model.shop.m'] as ModelNode).config).toMatchObject({
      materialized: 'incremental',
      incrementalStrategy: 'append',
    });
  });
});
