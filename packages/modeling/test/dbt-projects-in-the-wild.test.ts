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
});
