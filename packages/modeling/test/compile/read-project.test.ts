import { describe, expect, it } from 'vitest';
import { createDiagnosticSink } from '../../src/compile/diagnostics.js';
import { readDbtProject } from '../../src/compile/read-dbt-project.js';
import { readTsProject } from '../../src/compile/read-ts-project.js';
import { defineModel, defineProject, sql } from '../../src/index.js';
import { JinjaEnvironment } from '../../src/jinja.js';
import { writeProject } from '../helpers.js';

describe('project readers (parse phase input)', () => {
  it('reads a dbt-style project: macros, schema.yml, models with folder config, seeds and singular tests', async () => {
    const dir = await writeProject({
      'dbt_project.yml':
        'name: shop\nvars:\n  x: 1\nmodels:\n  shop:\n    staging:\n      +materialized: table\n',
      'macros/cents.sql': '{% macro cents(c) %}{{ c }} * 100{% endmacro %}',
      'models/staging/stg.sql': 'select {{ cents("amount") }} from t',
      'models/staging/schema.yml':
        'version: 2\nmodels:\n  - name: stg\n    description: staged\n  - name: ghost\nsources:\n  - name: raw\n    tables:\n      - name: o\n',
      'seeds/raw.csv': 'id\n1\n',
      'tests/check.sql': 'select 1 where false',
    });
    const jinja = new JinjaEnvironment({ schema: 'a' });
    const diagnostics = createDiagnosticSink();
    const inputs = await readDbtProject(dir, jinja, diagnostics);
    expect(inputs).toMatchObject({ name: 'shop', vars: { x: 1 }, rootDir: dir });
    expect(inputs.models.map((m) => [m.name, m.file, m.fqn, m.description])).toEqual([
      ['stg', 'models/staging/stg.sql', ['shop', 'staging', 'stg'], 'staged'],
    ]);
    expect(inputs.models[0]?.layers).toContainEqual({ materialized: 'table' });
    expect(inputs.seeds.map((s) => s.name)).toEqual(['raw']);
    expect(inputs.sources.map((s) => `${s.sourceName}.${s.name}`)).toEqual(['raw.o']);
    expect(inputs.singular.map((t) => t.file)).toEqual(['tests/check.sql']);
    expect(
      jinja.render('{{ cents("x") }}', 'inline.sql', {
        ref: () => '',
        source: () => '',
        config: () => undefined,
        var: () => undefined,
        thisRelation: '',
        isIncremental: false,
      }),
    ).toBe('x * 100');
    expect(diagnostics.list).toEqual([
      expect.objectContaining({ severity: 'warning', node: 'ghost', file: 'models/staging/schema.yml' }),
    ]);
  });

  it('reads dbt < 1.0 source-paths / data-paths and reports resources it does not run, one line per kind', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\nsource-paths: [sql]\ndata-paths: [csv]\n',
      'sql/a.sql': 'select 1 as id',
      'csv/s.csv': 'id\n1\n',
      'sql/schema.yml': [
        'version: 2',
        'models:',
        '  - name: a',
        '    versions:',
        '      - v: 1',
        '      - v: 2',
        'exposures:',
        '  - name: dash',
        'metrics:',
        '  - name: revenue',
        '  - name: orders',
        'semantic_models:',
        '  - name: sm',
        'groups:',
        '  - name: finance',
        'saved_queries:',
        '  - name: q',
        '',
      ].join('\n'),
    });
    const diagnostics = createDiagnosticSink();
    const inputs = await readDbtProject(dir, new JinjaEnvironment({ schema: 'a' }), diagnostics);
    expect(inputs.models.map((m) => m.file)).toEqual(['sql/a.sql']);
    expect(inputs.seeds.map((s) => s.file)).toEqual(['csv/s.csv']);
    expect(diagnostics.list.map((d) => `${d.severity} ${d.message}`)).toEqual([
      'warning 1 semantic models parsed but not run by dataflow (sm) in sql/schema.yml',
      'warning 2 metrics parsed but not run by dataflow (revenue, orders) in sql/schema.yml',
      'warning 1 saved queries parsed but not run by dataflow (q) in sql/schema.yml',
      'warning 1 exposures parsed but not run by dataflow (dash) in sql/schema.yml',
      'warning 1 groups parsed but not run by dataflow (finance) in sql/schema.yml',
      'warning 2 model versions parsed but not run by dataflow (a.v1, a.v2) in sql/schema.yml',
    ]);
  });

  it('reads a TypeScript project: definitions become model sources with their inline config', () => {
    const m = defineModel({
      name: 'orders',
      materialized: 'incremental',
      uniqueKey: 'id',
      tags: ['daily'],
      sql: ({ ref }) => sql`select * from ${ref('raw')}`,
    });
    const inputs = readTsProject(
      defineProject({ name: 'shop', models: [m] }),
      undefined,
      createDiagnosticSink(),
    );
    expect(inputs.models[0]).toMatchObject({
      name: 'orders',
      fqn: ['shop', 'orders'],
      inline: { materialized: 'incremental', unique_key: 'id', tags: ['daily'] },
    });
    const rendered = inputs.models[0]?.render({
      ref: (n) => `"a"."${n}"`,
      source: () => '',
      config: () => undefined,
      var: () => undefined,
      thisRelation: '"a"."orders"',
      isIncremental: false,
    });
    expect(rendered).toBe('select * from "a"."raw"');
  });
});
