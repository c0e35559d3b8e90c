/**
 * What public dbt projects do that a tutorial project does not (issue 11's corpus measure): each
 * case is a small project of our own that exercises one such habit, asserting the compiled SQL.
 */
import { describe, expect, it } from 'vitest';
import { compileProject, type ModelNode } from '../src/index.js';
import { writeProject } from './helpers.js';

const compiledSql = (graph: { nodes: Record<string, unknown> }, name: string) =>
  (graph.nodes[`model.shop.${name}`] as ModelNode | undefined)?.compiledSql;

describe('habits of public dbt projects', () => {
  it("calls the root project's own macros through its project name, as dbt allows", async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\n',
      'macros/dedupe.sql':
        '{% macro keep_first(rel, key) %}select distinct on ({{ key }}) * from {{ rel }}{% endmacro %}',
      'models/orders.sql': "{{ shop.keep_first('raw_orders', 'id') }}",
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(diagnostics).toEqual([]);
    expect(compiledSql(graph, 'orders')).toBe('select distinct on (id) * from raw_orders');
  });

  it("lets the root project file disable or reconfigure a package model over the model's own config() call", async () => {
    const dir = await writeProject({
      'dbt_project.yml': [
        'name: shop',
        'models:',
        '  clicks:',
        '    +materialized: view',
        '    web:',
        '      page_views:',
        '        +enabled: false',
      ].join('\n'),
      'models/page_views.sql': 'select 1 as own_page_view',
      'dbt_packages/clicks/dbt_project.yml': 'name: clicks\n',
      'dbt_packages/clicks/models/web/page_views.sql':
        "{{ config(enabled=true, materialized='table') }}select 2 as id",
      'dbt_packages/clicks/models/web/sessions.sql':
        "{{ config(materialized='table') }}select * from {{ ref('page_views') }}",
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(diagnostics).toEqual([]);
    expect(graph.nodes['model.clicks.page_views']).toBeUndefined();
    expect(compiledSql(graph, 'page_views')).toBe('select 1 as own_page_view');
    const sessions = graph.nodes['model.clicks.sessions'] as ModelNode;
    expect(sessions.config.materialized).toBe('view');
    expect(sessions.compiledSql).toBe('select * from "analytics"."page_views"');
  });
});
