/**
 * What public dbt projects do that a tutorial project does not (issue 11's corpus measure): each
 * case is a small project of our own that exercises one such habit, asserting the compiled SQL.
 */
import { describe, expect, it } from 'vitest';
import { compileProject, type ModelNode } from '../src/index.js';
import { Environment } from '../src/jinja/environment.js';
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

  it("renders env_var() in the project file's paths, as dbt does on load (one project, a model folder per sync)", async () => {
    const dir = await writeProject({
      'dbt_project.yml': [
        'name: shop',
        `model-paths: ["{{ env_var('SYNC_NAME', 'not-set') }}/models"]`,
        'packages-install-path: "dbt-packages"',
      ].join('\n'),
      'crm/models/contacts.sql': "select {{ money.cents('amount') }} as amount",
      'billing/models/invoices.sql': 'select 1 as id',
      'dbt-packages/money/dbt_project.yml': 'name: money\n',
      'dbt-packages/money/macros/cents.sql': '{% macro cents(c) %}({{ c }} / 100.0){% endmacro %}',
    });
    const { graph, diagnostics } = await compileProject({
      dir,
      schema: 'analytics',
      env: { SYNC_NAME: 'crm' },
    });
    expect(diagnostics).toEqual([]);
    expect(compiledSql(graph, 'contacts')).toBe('select (amount / 100.0) as amount');
    expect(graph.nodes['model.shop.invoices']).toBeUndefined();
    const unset = await compileProject({ dir, schema: 'analytics', env: {} });
    expect(Object.keys(unset.graph.nodes).filter((id) => id.startsWith('model.'))).toEqual([]);
  });

  it('reports an env var a project path needs and does not get as an invalid project file, naming the setting', async () => {
    const dir = await writeProject({
      'dbt_project.yml': `name: shop\nmodel-paths: ["{{ env_var('SYNC_NAME') }}"]\n`,
    });
    await expect(compileProject({ dir, schema: 'analytics', env: {} })).rejects.toMatchObject({
      code: 'PROJECT_CONFIG_INVALID',
      message: expect.stringMatching(/^dbt_project\.yml: model-paths: .*SYNC_NAME/),
    });
  });

  it('renders Jinja in source table names; the model and the tests find the rendered name', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\n',
      'models/sources.yml': [
        'version: 2',
        'sources:',
        '  - name: raw',
        '    schema: landing',
        '    tables:',
        `      - name: "{{ env_var('DATASET', 'none') ~ '_contributions' }}"`,
        '        columns:',
        '          - name: id',
        '            tests: [not_null]',
      ].join('\n'),
      'models/contributions.sql': [
        `{% set raw_table = env_var('DATASET', 'none') ~ '_contributions' %}`,
        `select id from {{ source('raw', raw_table) }}`,
      ].join('\n'),
    });
    const { graph, diagnostics } = await compileProject({
      dir,
      schema: 'analytics',
      env: { DATASET: 'acme' },
    });
    expect(diagnostics).toEqual([]);
    expect(compiledSql(graph, 'contributions')).toBe('\nselect id from "landing"."acme_contributions"');
    const tests = Object.values(graph.nodes).filter((n) => n.resourceType === 'test');
    expect(tests.map((t) => [t.name, t.dependsOn])).toEqual([
      ['source_not_null_raw_acme_contributions_id', ['source.shop.raw.acme_contributions']],
    ]);
  });

  it("reads vars scoped to the root project's own name (vars: { <project>: … }), under --vars", async () => {
    const dir = await writeProject({
      'dbt_project.yml': [
        'name: shop',
        'vars:',
        '  currency: EUR',
        '  shop:',
        '    platform: "web"',
        '    currency: USD',
      ].join('\n'),
      'models/orders.sql': "select '{{ var('platform') }}' as platform, '{{ var('currency') }}' as currency",
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(diagnostics).toEqual([]);
    expect(compiledSql(graph, 'orders')).toBe("select 'web' as platform, 'USD' as currency");
    const cli = await compileProject({ dir, schema: 'analytics', vars: { platform: 'app' } });
    expect(compiledSql(cli.graph, 'orders')).toBe("select 'app' as platform, 'USD' as currency");
  });

  it("compiles models with another adapter's materialization or incremental strategy, warning that they will not build", async () => {
    const dir = await writeProject({
      'dbt_project.yml': [
        'name: shop',
        'models:',
        '  shop:',
        '    daily:',
        '      +materialized: incremental',
        '      +incremental_strategy: insert_overwrite',
      ].join('\n'),
      'models/daily/events_by_day.sql': 'select 1 as id',
      'models/daily/snapshot_table.sql': "{{ config(materialized='table') }}select 2 as id",
      'models/daily/off.sql': '{{ config(enabled=false) }}select 3 as id',
      'models/mv_totals.sql': "{{ config(materialized='materialized_view') }}select 4 as id",
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(diagnostics.map((d) => [d.severity, d.code, d.node])).toEqual([
      ['warning', 'UNSUPPORTED_CONFIG', 'events_by_day'],
      ['warning', 'UNSUPPORTED_CONFIG', 'mv_totals'],
    ]);
    expect(diagnostics[0]?.message).toMatch(
      /incremental_strategy "insert_overwrite" is not built by dataflow/,
    );
    const events = graph.nodes['model.shop.events_by_day'] as ModelNode;
    expect(events.compiledSql).toBe('select 1 as id');
    expect(events.config).toMatchObject({
      materialized: 'incremental',
      unsupported: { setting: 'incremental_strategy', value: 'insert_overwrite' },
    });
    // A table ignores the strategy its folder sets, as in dbt.
    expect((graph.nodes['model.shop.snapshot_table'] as ModelNode).config.unsupported).toBeUndefined();
    expect((graph.nodes['model.shop.mv_totals'] as ModelNode).config.unsupported).toEqual({
      setting: 'materialized',
      value: 'materialized_view',
    });
  });

  it('still reports a strategy that is not a name, and a PostgreSQL strategy without its unique_key, as errors', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\n',
      'models/a.sql': "{{ config(materialized='incremental', incremental_strategy=3) }}select 1 as id",
      'models/b.sql': "{{ config(materialized='incremental', incremental_strategy='merge') }}select 1 as id",
    });
    const { diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(diagnostics.map((d) => d.message)).toEqual([
      'a: unknown incremental_strategy 3 (expected append, delete+insert, merge)',
      'a: incremental_strategy merge needs a unique_key',
      'b: incremental_strategy merge needs a unique_key',
    ]);
    expect(diagnostics.map((d) => [d.severity, d.code, d.node])).toEqual([
      ['error', 'CONFIG_ERROR', 'a'],
      ['error', 'CONFIG_ERROR', 'a'],
      ['error', 'CONFIG_ERROR', 'b'],
    ]);
  });

  it('reads into empty parse-time query results as dbt parses them (execute false), still failing on undefined names', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\n',
      'macros/first_date.sql': [
        '{% macro first_date() %}',
        '  {% set results = {} %}',
        "  {% if execute %}{% do results.update({'DATE': ['2020-01-01']}) %}{% endif %}",
        '  {{ return(results) }}',
        '{% endmacro %}',
      ].join('\n'),
      'models/backfill.sql': [
        '{% set first_ = first_date() %}',
        "select '{{ first_.DATE[0] }}' as valid_from, '{{ load_result('none')['data'][0][0] }}' as latest",
      ].join('\n'),
      'models/typo.sql': "select '{{ no_such_package.first_date() }}' as d",
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(compiledSql(graph, 'backfill')).toBe("\nselect '' as valid_from, '' as latest");
    expect(diagnostics.map((d) => [d.code, d.node, d.message])).toEqual([
      ['TEMPLATE_ERROR', 'typo', "'no_such_package' is undefined"],
    ]);
  });

  it('keeps Jinja2 strict about reading into a missing value unless the environment is lenient (parse time)', () => {
    const env = new Environment();
    const template = env.parse("[{{ d.DATE[0] }}][{{ d.rows.first() }}][{{ none['data'][0] }}]", 'm.sql');
    expect(() => env.render(template, { d: {} })).toThrow("'dict object' has no attribute 'DATE'");
    env.lenientMissing = () => true;
    expect(env.render(template, { d: {} })).toBe('[][][]');
    expect(() => env.render(env.parse('{{ nope.x }}', 'n.sql'))).toThrow("'nope' is undefined");
  });
});
