import { describe, expect, it } from 'vitest';
import { compileProject, type ModelNode, planBuild, type TestNode } from '../src/index.js';
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

describe('model and fromyaml as packages read them', () => {
  it('a macro reads the rendered node through `model` (config from project, YAML and config() calls)', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: clinic\nmodels:\n  clinic:\n    vault:\n      +tags: [vault]\n',
      'macros/hub.sql': [
        '{% macro hub(key) %}',
        "{%- if model.config.materialized == 'incremental' %}select distinct {{ key }}",
        '{%- else %}select {{ key }}{% endif %} -- {{ model.unique_id }} {{ model.fqn | join(".") }} {{ model.config.tags }}',
        '{%- endmacro %}',
      ].join('\n'),
      'models/vault/hub_patient.sql':
        "{{ config(materialized='incremental', unique_key='pk') }}\n{{ hub('pk') }}",
      'models/vault/hub_visit.sql': "{{ hub('visit_pk') }}",
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(diagnostics).toEqual([]);
    expect(model(graph, 'hub_patient').compiledSql).toBe(
      "\nselect distinct pk -- model.clinic.hub_patient clinic.vault.hub_patient ['vault']",
    );
    expect(model(graph, 'hub_visit').compiledSql).toBe(
      "select visit_pk -- model.clinic.hub_visit clinic.vault.hub_visit ['vault']",
    );
  });

  it('fromyaml keeps the last value of a duplicated key, as PyYAML does', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: clinic\n',
      'models/stage.sql': [
        '{%- set meta -%}',
        'hashed:',
        '  patient_hk: patient_id',
        '  patient_hk:',
        '    - patient_id',
        '    - site',
        '{%- endset -%}',
        "select {{ fromyaml(meta)['hashed']['patient_hk'] | join(' || ') }} as patient_hk",
      ].join('\n'),
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(diagnostics).toEqual([]);
    expect(model(graph, 'stage').compiledSql).toBe('select patient_id || site as patient_hk');
  });
});

describe('builtins.ref.config', () => {
  it("gives the project's name and each installed package's version, as dbt's RuntimeConfig does", async () => {
    const dir = await writeProject({
      'dbt_project.yml': "name: clinic\nversion: '2.0.0'\n",
      'dbt_packages/care/dbt_project.yml': "name: care\nversion: '1.4.2'\n",
      'dbt_packages/care/macros/version.sql': [
        '{% macro care_version() %}',
        '{% set conf = builtins.ref.config %}',
        "{% do return(conf.dependencies['care'].version ~ ' in ' ~ conf.project_name) %}",
        '{% endmacro %}',
      ].join('\n'),
      'models/about.sql':
        "select '{{ care.care_version() }}' as care, '{{ ref.config.dependencies.clinic.version }}' as me",
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(diagnostics).toEqual([]);
    expect(model(graph, 'about').compiledSql).toBe("select '1.4.2 in clinic' as care, '2.0.0' as me");
  });
});

describe('test arguments', () => {
  it('are rendered natively (a macro returning a list gives a list); the name comes from the arguments as written', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: clinic\n',
      'macros/statuses.sql':
        "{% macro visit_statuses(extra) %}{{ return(['open', 'closed'] + extra) }}{% endmacro %}",
      'models/visits.sql': "select 'open' as status",
      'models/schema.yml': [
        'version: 2',
        'models:',
        '  - name: visits',
        '    columns:',
        '      - name: status',
        '        tests:',
        '          - accepted_values:',
        '              values: "{{ visit_statuses([\'void\']) }}"',
      ].join('\n'),
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(diagnostics).toEqual([]);
    const [test] = Object.values(graph.nodes).filter((n) => n.resourceType === 'test') as TestNode[];
    expect(test?.name).toBe('accepted_values_visits_status___visit_statuses_void_');
    expect(test?.compiled.sql).toContain("where value_field not in ('open', 'closed', 'void')");
  });
});

describe('var() while parsing', () => {
  it('a missing var is None at parse time, so a model its own config disables is not an error', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: clinic\n',
      'models/predictions.sql': [
        "{{ config(enabled=var('predictions_ready', False) | as_bool) }}",
        "select * from {{ var('predictions_table') }}",
      ].join('\n'),
      'models/scores.sql': "select 1 as id\n-- from\nselect * from {{ var('scores_table') }}",
      'models/visits.sql': "select * from {{ var('visits_table', 'raw.visits') }}",
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    // An enabled model still reports the missing var, at its line, from the final render.
    expect(diagnostics.map((d) => [d.code, d.file, d.line, d.message])).toEqual([
      [
        'TEMPLATE_ERROR',
        'models/scores.sql',
        3,
        "required var 'scores_table' not found in project vars or --vars",
      ],
    ]);
    expect(graph.nodes['model.clinic.predictions']).toBeUndefined();
    expect(graph.failedModels).toEqual({
      'model.clinic.scores': { name: 'scores', file: 'models/scores.sql' },
    });
    expect(model(graph, 'visits').compiledSql).toBe('select * from raw.visits');
  });
});

describe('a model that fails to compile', () => {
  it('keeps its name: children link to it with no diagnostic of their own, the graph lists it as failed', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: clinic\nmodels:\n  clinic:\n    marts:\n      +schema: marts\n',
      'models/marts/visits.sql': "select 1 as id\n{{ no_such_macro('x') }}",
      // Fails only in the final render, where `this` is the real relation.
      'models/marts/late.sql':
        "select * from {{ ref('base') }}\n{% if this.schema == 'analytics_marts' %}{{ no_such_macro() }}{% endif %}",
      'models/base.sql': 'select 2 as id',
      'models/visit_counts.sql': "select count(*) as n from {{ ref('visits') }}",
      'models/late_counts.sql': "select count(*) as n from {{ ref('late') }}",
      'models/missing.sql': "select * from {{ ref('nowhere') }}",
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(diagnostics.map((d) => [d.code, d.file])).toEqual([
      ['TEMPLATE_ERROR', 'models/marts/visits.sql'],
      ['UNKNOWN_REF', 'models/missing.sql'],
      ['TEMPLATE_ERROR', 'models/marts/late.sql'],
    ]);
    // The parse-time failure still gets its relation from project config (+schema).
    expect(model(graph, 'visit_counts').compiledSql).toBe(
      'select count(*) as n from "analytics_marts"."visits"',
    );
    expect(model(graph, 'visit_counts').dependsOn).toEqual(['model.clinic.visits']);
    expect(model(graph, 'late_counts').dependsOn).toEqual(['model.clinic.late']);
    expect(graph.nodes['model.clinic.visits']).toBeUndefined();
    expect(graph.failedModels).toEqual({
      'model.clinic.late': { name: 'late', file: 'models/marts/late.sql' },
      'model.clinic.visits': { name: 'visits', file: 'models/marts/visits.sql' },
    });
  });
});

describe('build plan', () => {
  it('two relationships tests across two branches never make their children wait for each other (regression: 1,001 nodes skipped as "dependencies did not run")', async () => {
    const rel = (column: string, to: string) =>
      `      - name: ${column}\n        tests:\n          - relationships: {to: "ref('${to}')", field: id}`;
    const dir = await writeProject({
      'dbt_project.yml': 'name: clinic\n',
      'models/stg_a.sql': 'select 1 as id, 1 as b_id',
      'models/stg_b.sql': 'select 1 as id, 1 as a_id',
      'models/a.sql': "select * from {{ ref('stg_a') }}",
      'models/b.sql': "select * from {{ ref('stg_b') }}",
      'models/schema.yml': [
        'version: 2',
        'models:',
        '  - name: stg_a',
        '    columns:',
        rel('b_id', 'b'),
        '  - name: stg_b',
        '    columns:',
        rel('a_id', 'a'),
      ].join('\n'),
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(diagnostics).toEqual([]);
    const plan = planBuild(graph);
    // Every node can start once what it waits for has finished: no cycle in the waits.
    const done = new Set<string>();
    for (let progress = true; progress; ) {
      progress = false;
      for (const id of plan.order)
        if (!done.has(id) && (plan.waitsFor[id] ?? []).every((w) => done.has(w))) {
          done.add(id);
          progress = true;
        }
    }
    expect(plan.order.filter((id) => !done.has(id))).toEqual([]);
    expect(plan.order).toHaveLength(6);
  });
});
