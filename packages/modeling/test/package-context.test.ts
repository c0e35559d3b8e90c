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

  it("answers builtins.ref.config (dbt's runtime config), project_name and invocation_args_dict", async () => {
    const dir = await writeProject({
      'dbt_project.yml': "name: shop\nversion: '2.1'\nvars:\n  days: 3\n",
      'dbt_packages/shop_utils/dbt_project.yml': "name: shop_utils\nversion: '0.4.0'\n",
      'macros/conf.sql': '{% macro runtime() %}{{ return(builtins.ref.config) }}{% endmacro %}',
      'models/m.sql': [
        '{%- set conf = runtime() -%}',
        "select '{{ conf.dependencies['shop_utils'].version }}' as pkg, '{{ conf.dependencies[project_name].version }}' as own,",
        "  '{{ conf.project_name }}' as name, {{ conf.vars.to_dict()['days'] }} as days, {{ conf.cli_vars }} as cli,",
        "  '{{ invocation_args_dict.which }}' as which, {{ invocation_args_dict.vars }} as args_vars",
      ].join('\n'),
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics', vars: { run: 1 } });
    expect(diagnostics).toEqual([]);
    expect(compiled(graph, 'model.shop.m')).toBe(
      [
        "select '0.4.0' as pkg, '2.1' as own,",
        "  'shop' as name, 3 as days, {'run': 1} as cli,",
        "  'compile' as which, {'run': 1} as args_vars",
      ].join('\n'),
    );
  });

  it("gives `model` the manifest's node shape while parsing and compiling", async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\nmodels:\n  shop:\n    marts:\n      +materialized: table\n',
      'models/marts/orders.sql': [
        "{%- if model.config.materialized != 'table' %}{{ exceptions.raise_compiler_error('not a table') }}{% endif -%}",
        "select '{{ model.unique_id }}' as id, '{{ model.resource_type }}' as kind, '{{ model.package_name }}' as pkg,",
        "  '{{ model.original_file_path }}' as file, '{{ model.path }}' as path, '{{ model.fqn | join('.') }}' as fqn,",
        "  '{{ model.get('config').get('on_schema_change') }}' as osc, '{{ model.name }}' as name",
      ].join('\n'),
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(diagnostics).toEqual([]);
    expect(compiled(graph, 'model.shop.orders')).toBe(
      [
        "select 'model.shop.orders' as id, 'model' as kind, 'shop' as pkg,",
        "  'models/marts/orders.sql' as file, 'marts/orders.sql' as path, 'shop.marts.orders' as fqn,",
        "  'ignore' as osc, 'orders' as name",
      ].join('\n'),
    );
  });

  it('renders Jinja in a project var when it is read, as dbt does, but never a default', async () => {
    const dir = await writeProject({
      'dbt_project.yml': [
        'name: shop',
        'vars:',
        '  threshold: "{{ 5 if target.type not in [\'bigquery\'] else 4 }}"',
        '  plain: 7',
      ].join('\n'),
      'models/m.sql':
        "select {{ var('threshold') }} as t, {{ var('plain') }} as p, '{{ var('nope', '{{ x }}') }}' as d",
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(diagnostics).toEqual([]);
    expect(compiled(graph, 'model.shop.m')).toBe("select 5 as t, 7 as p, '{{ x }}' as d");
  });

  it('walks `graph` in a build-time render: nodes with resource_type, config, depends_on, fqn; sources', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\n',
      'models/sources.yml': 'version: 2\nsources:\n  - name: raw\n    tables:\n      - name: orders\n',
      'seeds/codes.csv': 'code\na\n',
      'models/stg_orders.sql':
        "{{ config(materialized='table') }}select * from {{ source('raw', 'orders') }}",
      'models/report.sql': [
        'select 1 as one',
        '{%- if execute %}',
        "{%- for n in graph.nodes.values() | selectattr('resource_type', 'in', ['model', 'seed']) | sort(attribute='unique_id') %}",
        "-- {{ n.unique_id }} {{ n.config.materialized }} {{ n.fqn | join('.') }} {{ n.original_file_path }} <- {{ n.depends_on.nodes | join(',') }}",
        '{%- endfor %}',
        "-- {{ graph.sources.values() | map(attribute='source_name') | join(',') }} {{ graph.exposures | length }}",
        '-- me: {{ model.config.materialized }} {{ model.depends_on.nodes | length }} {{ model.compiled_code is string }}',
        "{%- do graph.setdefault('cache', {}).update({'k': 1}) %}",
        '{%- endif %}',
      ].join('\n'),
    });
    const compiledProject = await compileProject({ dir, schema: 'analytics' });
    expect(compiledProject.diagnostics).toEqual([]);
    expect(compiled(compiledProject.graph, 'model.shop.report')).toBe('select 1 as one');
    const { sql } = await compiledProject.renderer.render('model.shop.report', false, async (requests) =>
      requests.map(() => []),
    );
    expect(sql).toBe(
      [
        'select 1 as one',
        '-- model.shop.report view shop.report models/report.sql <- ',
        '-- model.shop.stg_orders table shop.stg_orders models/stg_orders.sql <- source.shop.raw.orders',
        '-- seed.shop.codes seed shop.codes seeds/codes.csv <- ',
        '-- raw 0',
        '-- me: view 0 True',
      ].join('\n'),
    );
  });

  it("renders Jinja in a test's config and arguments as dbt does (severity, a var holding a list)", async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\nvars:\n  kinds: [a, b]\n',
      'models/m.sql': "select 'a' as kind",
      'models/schema.yml': [
        'version: 2',
        'models:',
        '  - name: m',
        '    columns:',
        '      - name: kind',
        '        data_tests:',
        '          - accepted_values:',
        '              arguments:',
        '                values: "{{ var(\'kinds\') }}"',
        '              config:',
        "                severity: \"{{ 'warn' if target.type in ['spark'] else 'error' }}\"",
        '          - not_null:',
        '              config:',
        '                enabled: "{{ target.type == \'spark\' }}"',
      ].join('\n'),
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(diagnostics).toEqual([]);
    const tests = Object.values(graph.nodes).filter((n) => n.resourceType === 'test');
    expect(tests.map((t) => [t.name, t.resourceType === 'test' && t.severity])).toEqual([
      // named from the arguments as written (dbt renders test kwargs only when it compiles the test)
      ['accepted_values_m_kind___var_kinds_', 'error'],
    ]);
    expect(tests[0]?.resourceType === 'test' && tests[0].compiled.sql).toContain(
      "where value_field not in ('a', 'b')",
    );
  });

  it("has dbt's relation helpers packages call: should_store_failures, make_temp_relation, information_schema, create_table_as", async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\n',
      'models/m.sql': [
        '{{ config(store_failures=true) }}',
        'select {{ should_store_failures() }} as sf, {{ should_full_refresh() }} as fr,',
        "  '{{ dbt.make_temp_relation(this) }}' as tmp, '{{ this.information_schema('columns') }}' as info,",
        "  '{{ this.without_identifier() }}' as sch, {{ api.Column.translate_type('string') }} {{ api.Column.translate_type('date') }}",
        "-- {{ get_create_table_as_sql(true, this, 'select 1') }}",
        "-- {{ dbt.create_table_as(false, this, 'select 2') }}",
      ].join('\n'),
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(diagnostics).toEqual([]);
    expect(compiled(graph, 'model.shop.m')).toBe(
      [
        '',
        'select True as sf, False as fr,',
        `  '"analytics"."m__dbt_tmp"' as tmp, 'INFORMATION_SCHEMA.columns' as info,`,
        `  '"analytics"' as sch, TEXT date`,
        '-- create temporary table "m" as (\nselect 1\n)',
        '-- create table "analytics"."m" as (\nselect 2\n)',
      ].join('\n'),
    );
  });

  it('finds a test macro by its package or root-project name, and reads global inline regex flags in a row', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\n',
      'dbt_packages/checks/dbt_project.yml': 'name: checks\n',
      'dbt_packages/checks/macros/positive.sql':
        '{% test positive(model, column_name) %}select * from {{ model }} where {{ column_name }} <= 0{% endtest %}',
      'macros/small.sql':
        '{% test small(model, column_name) %}select * from {{ model }} where {{ column_name }} > 9{% endtest %}',
      'models/m.sql': [
        'select 1 as id',
        "-- {{ modules.re.search('(?i)(?s)(^.*\\s*|,)WITH\\s', 'a,\\nwith x') is not none }}",
      ].join('\n'),
      'models/schema.yml': [
        'version: 2',
        'models:',
        '  - name: m',
        '    columns:',
        '      - name: id',
        '        data_tests: [checks.positive, shop.small]',
      ].join('\n'),
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(diagnostics).toEqual([]);
    expect(compiled(graph, 'model.shop.m')).toBe('select 1 as id\n-- True');
    const sql = Object.values(graph.nodes)
      .map((n) => (n.resourceType === 'test' ? n.compiled.sql : ''))
      .filter(Boolean)
      .sort();
    expect(sql).toEqual([
      'select * from "analytics"."m" where id <= 0',
      'select * from "analytics"."m" where id > 9',
    ]);
  });

  it("takes a generic test macro's own config() as the lowest layer of its test's config (severity, fail_calc)", async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\n',
      'tests/generic/is_empty.sql': [
        '{% test is_empty(model) %}',
        "{{ config(severity='warn', fail_calc='n_records') }}",
        'select count(*) as n_records from {{ model }}',
        '{% endtest %}',
      ].join('\n'),
      'models/a.sql': 'select 1 as id',
      'models/b.sql': 'select 1 as id',
      'models/schema.yml': [
        'version: 2',
        'models:',
        '  - name: a',
        '    data_tests: [is_empty]',
        '  - name: b',
        '    data_tests:',
        '      - is_empty: {config: {severity: error}}',
      ].join('\n'),
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(diagnostics).toEqual([]);
    const tests = Object.values(graph.nodes).flatMap((n) =>
      n.resourceType === 'test' ? [[n.name, n.severity, n.compiled.config.failCalc]] : [],
    );
    expect(tests.sort()).toEqual([
      ['is_empty_a_', 'warn', 'n_records'],
      ['is_empty_b_', 'error', 'n_records'],
    ]);
  });
});
