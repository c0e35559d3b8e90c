import { useTestDatabase } from '@dataflow/testkit';
import { describe, expect, it } from 'vitest';
import { build, compileProject, type TestNode } from '../src/index.js';
import { writeProject } from './helpers.js';

const db = useTestDatabase();

// A generic test written as dbt_expectations writes its column checks: the body is guarded by
// `{% if execute %}`, so it renders nothing while parsing and reads the warehouse when it runs.
const columnTest = [
  '{% test column_present(model, column_name) %}',
  '{% if execute %}',
  '{%- set names = adapter.get_columns_in_relation(model) | map(attribute="name") | list -%}',
  "select '{{ column_name }}' as missing where {{ 'false' if column_name in names else 'true' }}",
  '{% endif %}',
  '{% endtest %}',
].join('\n');

describe('a generic test that renders only with execute true', () => {
  it('compiles without error and renders at build time against the built relation (pass and fail)', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: clinic\n',
      'macros/column_present.sql': columnTest,
      'models/visits.sql': 'select 1 as visit_id, 2 as patient_id',
      'models/schema.yml': [
        'version: 2',
        'models:',
        '  - name: visits',
        '    columns:',
        '      - name: visit_id',
        '        tests: [column_present]',
        '      - name: provider_id',
        '        tests: [column_present]',
      ].join('\n'),
    });
    const { graph, diagnostics, renderer } = await compileProject({ dir, schema: db.schema });
    expect(diagnostics).toEqual([]);
    const tests = Object.values(graph.nodes).filter((n): n is TestNode => n.resourceType === 'test');
    expect(tests.map((t) => [t.name, t.compiled.pending, t.sqlTemplate])).toEqual([
      ['column_present_visits_visit_id', true, undefined],
      ['column_present_visits_provider_id', true, undefined],
    ]);
    const { results } = await build(db.pool, graph, { runId: 'exec-tests', renderer });
    expect(results.map((r) => [r.name, r.status]).sort()).toEqual([
      ['column_present_visits_provider_id', 'fail'],
      ['column_present_visits_visit_id', 'pass'],
      // write-audit-publish: the failing error-severity test keeps the model from being published
      ['visits', 'error'],
    ]);
    expect(results.find((r) => r.name === 'visits')?.message).toContain('column_present_visits_provider_id');

    // Without the renderer the test cannot run: an error naming why, never a silent pass.
    const bare = await build(db.pool, graph, { runId: 'exec-tests-bare', select: ['test_type:generic'] });
    expect(bare.results.map((r) => [r.status, r.message])).toEqual([
      [
        'error',
        expect.stringContaining("needs a build-time render (execute true): pass compileProject's renderer"),
      ],
      [
        'error',
        expect.stringContaining("needs a build-time render (execute true): pass compileProject's renderer"),
      ],
    ]);
  });
});
