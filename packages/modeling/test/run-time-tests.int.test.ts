import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtPackagesFixture, useTestDatabase } from '@dataflow/testkit';
import { describe, expect, it } from 'vitest';
import { assertCompiled, build, compileProject, type TestNode } from '../src/index.js';
import { writeProject } from './helpers.js';

const db = useTestDatabase();

describe('generic tests that render only with execute true (dbt renders them again at run time)', () => {
  it("compiles them without SQL while parsing, then renders and runs them against the built relation: dbt_utils.equality and a project's own", async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\n',
      'seeds/expected.csv': 'id,kind\n1,a\n2,b\n',
      'models/actual.sql': "{{ config(materialized='table') }}select id, kind from {{ ref('expected') }}",
      'models/wrong.sql':
        "{{ config(materialized='table') }}select id, 'z' as kind from {{ ref('expected') }}",
      'macros/column_count.sql': [
        '{% test column_count(model, expected) %}',
        '{%- if execute %}',
        '{%- set n = adapter.get_columns_in_relation(model) | length %}',
        'select {{ n }} as found where {{ n }} != {{ expected }}',
        '{%- endif %}',
        '{% endtest %}',
      ].join('\n'),
      'tests/late_ids.sql':
        "-- depends_on: {{ ref('actual') }}\n{% if execute %}select id from {{ ref('actual') }} where id > 1{% endif %}",
      'models/schema.yml': [
        'version: 2',
        'models:',
        '  - name: actual',
        '    data_tests:',
        "      - dbt_utils.equality: {compare_model: ref('expected')}",
        '      - column_count: {expected: 2}',
        '  - name: wrong',
        '    data_tests:',
        "      - dbt_utils.equality: {compare_model: ref('expected')}",
        '      - column_count: {expected: 3}',
      ].join('\n'),
    });
    await mkdir(join(dir, 'dbt_packages'));
    await symlink(join(dbtPackagesFixture(), 'dbt_utils'), join(dir, 'dbt_packages', 'dbt_utils'), 'dir');
    const compiled = await compileProject({ dir, schema: db.schema });
    const graph = assertCompiled(compiled);
    const tests = Object.values(graph.nodes).filter((n): n is TestNode => n.resourceType === 'test');
    expect(tests.map((t) => [t.name, t.renderAtRunTime, t.compiled.sql]).sort()).toEqual([
      ['column_count_actual_2', true, ''],
      ['column_count_wrong_3', true, ''],
      ['equality_actual_ref_expected_', true, ''],
      ['equality_wrong_ref_expected_', true, ''],
      ['late_ids', true, ''],
    ]);

    const result = await build(db.pool, graph, { runId: 'r1', threads: 2, renderer: compiled.renderer });
    const status = Object.fromEntries(
      result.results
        .filter((r) => r.resourceType === 'test')
        .map((r) => [r.name, [r.status, r.test?.failures]]),
    );
    expect(status).toEqual({
      column_count_actual_2: ['pass', 0],
      column_count_wrong_3: ['fail', 1],
      equality_actual_ref_expected_: ['pass', 0],
      equality_wrong_ref_expected_: ['fail', 4],
      late_ids: ['fail', 1],
    });

    const withoutRenderer = await build(db.pool, graph, { runId: 'r2', select: ['column_count_actual_2'] });
    expect(withoutRenderer.results.map((r) => [r.status, r.message])).toEqual([
      [
        'error',
        "test column_count_actual_2 renders only at run time (execute true): pass compileProject's renderer to build",
      ],
    ]);
  });
});
