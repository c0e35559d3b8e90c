import { describe, expect, it } from 'vitest';
import { compileProject, type ModelNode } from '../src/index.js';
import { writeProject } from './helpers.js';

// Regression tests for what public dbt projects used and dataflow lacked (issue 11's corpus).
// Each is a small project of our own exercising the same feature; compiled SQL is asserted.

const model = (graph: { nodes: Record<string, unknown> }, name: string, project = 'clinic') =>
  graph.nodes[`model.${project}.${name}`] as ModelNode;

describe('dbt built-ins public projects use', () => {
  it('api.Column.translate_type maps dbt type labels and keeps other types as written', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: clinic\n',
      'models/visits.sql': [
        'select',
        "  {{ dbt.cast('null', api.Column.translate_type('integer')) }} as a,",
        "  {{ dbt.cast('null', api.Column.translate_type('string')) }} as b,",
        "  cast(null as {{ api.Column.translate_type('time') }}) as c,",
        "  cast(null as {{ api.Column.translate_type(dtype='Float') }}) as d",
      ].join('\n'),
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(diagnostics).toEqual([]);
    expect(model(graph, 'visits').compiledSql).toBe(
      [
        'select',
        '  cast(null as INT) as a,',
        '  cast(null as TEXT) as b,',
        '  cast(null as time) as c,',
        '  cast(null as FLOAT) as d',
      ].join('\n'),
    );
  });

  it("calls the root project's own macros through its name, as dbt's namespace", async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: clinic\n',
      'macros/len.sql': '{% macro strlen(e) %}length({{ e }}){% endmacro %}',
      'models/codes.sql': "select {{ clinic.strlen('code') }} = 5 as five from codes",
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(diagnostics).toEqual([]);
    expect(model(graph, 'codes').compiledSql).toBe('select length(code) = 5 as five from codes');
  });
});
