import { describe, expect, it } from 'vitest';
import { defaultName } from '../../src/compile/relation-names.js';
import { renderYamlValue } from '../../src/compile/yaml-jinja.js';
import {
  compileProject,
  type ModelNode,
  type SeedNode,
  type SnapshotNode,
  type SourceNode,
} from '../../src/index.js';
import { writeProject } from '../helpers.js';
import { testContext } from './context.js';

const node = <T>(graph: { nodes: Record<string, unknown> }, id: string) => graph.nodes[id] as T;

describe("dbt's default naming rule", () => {
  it('appends a custom schema (trimmed) to the target schema; alias or name; database only when custom', () => {
    const at = { targetSchema: 'analytics', name: 'orders' };
    expect(defaultName('schema', null, at)).toBe('analytics');
    expect(defaultName('schema', ' marts ', at)).toBe('analytics_marts');
    expect(defaultName('alias', null, at)).toBe('orders');
    expect(defaultName('alias', 'fct_orders ', at)).toBe('fct_orders');
    expect(defaultName('database', null, at)).toBeUndefined();
    expect(defaultName('database', 'other', at)).toBe('other');
  });
});

describe('generate_schema_name / generate_alias_name / generate_database_name', () => {
  it('applies the default rule to models, seeds and snapshots with +schema / +alias from every layer', async () => {
    const dir = await writeProject({
      'dbt_project.yml': [
        'name: shop',
        'models:',
        '  shop:',
        '    marts:',
        '      +schema: marts',
        'seeds:',
        '  shop:',
        '    +schema: raw',
        '    +alias: raw_countries',
      ].join('\n'),
      'models/marts/orders.sql': "{{ config(alias='fct_orders') }}select 1 as id",
      'models/marts/schema.yml': 'version: 2\nmodels:\n  - name: customers\n    config:\n      schema: crm\n',
      'models/marts/customers.sql': 'select 1 as id',
      'models/plain.sql': "select * from {{ ref('orders') }} join {{ ref('countries') }} using (id)",
      'seeds/countries.csv': 'id,name\n1,x\n',
      'snapshots/snap.sql':
        "{% snapshot snap %}{{ config(unique_key='id', strategy='check', check_cols='all', schema='hist') }}select 1 as id{% endsnapshot %}",
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(diagnostics).toEqual([]);
    expect(node<ModelNode>(graph, 'model.shop.orders').relation.sql).toBe('"analytics_marts"."fct_orders"');
    expect(node<ModelNode>(graph, 'model.shop.customers').relation.sql).toBe('"analytics_crm"."customers"');
    expect(node<SeedNode>(graph, 'seed.shop.countries').relation.sql).toBe('"analytics_raw"."raw_countries"');
    expect(node<SnapshotNode>(graph, 'snapshot.shop.snap').relation.sql).toBe('"analytics_hist"."snap"');
    expect(node<ModelNode>(graph, 'model.shop.plain').compiledSql).toBe(
      'select * from "analytics_marts"."fct_orders" join "analytics_raw"."raw_countries" using (id)',
    );
  });

  it("uses the project's macros, which see the custom name and the node (resource_type, fqn, config)", async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\nmodels:\n  shop:\n    +schema: marts\n',
      'macros/naming.sql': [
        '{% macro generate_schema_name(custom_schema_name, node) -%}',
        "  {%- if node.resource_type == 'seed' -%} seeds",
        '  {%- elif custom_schema_name is none -%} {{ target.schema }}',
        '  {%- else -%} {{ custom_schema_name | trim }}_{{ node.fqn[1] }}{% endif -%}',
        '{%- endmacro %}',
        '{% macro generate_alias_name(custom_alias_name=none, node=none) -%}',
        '  {{ node.config.materialized }}_{{ custom_alias_name or node.name }}',
        '{%- endmacro %}',
        '{% macro generate_database_name(custom_database_name=none, node=none) -%}',
        '  {{ custom_database_name or target.database }}',
        '{%- endmacro %}',
      ].join('\n'),
      'models/core/orders.sql': "{{ config(materialized='table', alias='o') }}select 1 as id",
      'models/core/elsewhere.sql': "{{ config(database='warehouse2') }}select 1 as id",
      'seeds/countries.csv': 'id\n1\n',
    });
    const { graph, diagnostics } = await compileProject({
      dir,
      schema: 'analytics',
      target: { database: 'dev' },
    });
    expect(diagnostics).toEqual([]);
    expect(node<ModelNode>(graph, 'model.shop.orders').relation).toEqual({
      schema: 'marts_core',
      identifier: 'table_o',
      sql: '"marts_core"."table_o"',
    });
    expect(node<ModelNode>(graph, 'model.shop.elsewhere').relation.sql).toBe(
      '"warehouse2"."marts_core"."view_elsewhere"',
    );
    expect(node<SeedNode>(graph, 'seed.shop.countries').relation.sql).toBe('"seeds"."seed_countries"');
  });

  it('finds a default__ override by dispatch in the dbt namespace; a package macro names only its own nodes', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\nmodels:\n  shop:\n    +schema: marts\n',
      'macros/naming.sql': [
        '{% macro default__generate_schema_name(custom_schema_name, node) -%}',
        "  {{ custom_schema_name or 'main' }}",
        '{%- endmacro %}',
      ].join('\n'),
      'models/orders.sql': 'select 1 as id',
      'dbt_packages/pkg/dbt_project.yml': 'name: pkg\n',
      'dbt_packages/pkg/macros/naming.sql':
        '{% macro generate_alias_name(custom_alias_name=none, node=none) %}pkg_{{ node.name }}{% endmacro %}',
      'dbt_packages/pkg/models/pkg_model.sql': 'select 2 as id',
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(diagnostics).toEqual([]);
    expect(node<ModelNode>(graph, 'model.shop.orders').relation.sql).toBe('"marts"."orders"');
    expect(node<ModelNode>(graph, 'model.pkg.pkg_model').relation.sql).toBe('"main"."pkg_pkg_model"');
  });

  it('reports a naming macro that fails or names nothing on the node, and falls back to the default rule', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\n',
      'macros/naming.sql': [
        "{% macro generate_schema_name(c, node) %}{{ exceptions.raise_compiler_error('no schema for ' ~ node.name) }}{% endmacro %}",
        '{% macro generate_alias_name(c, node) %}{% endmacro %}',
      ].join('\n'),
      'models/orders.sql': 'select 1 as id',
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(diagnostics.map((d) => [d.node, d.code, d.message])).toEqual([
      ['orders', 'TEMPLATE_ERROR', 'generate_schema_name for orders: no schema for orders'],
      ['orders', 'CONFIG_ERROR', 'generate_alias_name returned an empty name for orders'],
    ]);
    expect(node<ModelNode>(graph, 'model.shop.orders').relation.sql).toBe('"analytics"."orders"');
  });
});

describe('Jinja in YAML values', () => {
  it('+enabled as Jinja from dbt_project.yml, schema.yml and config(); seeds and snapshots too', async () => {
    const files = {
      'dbt_project.yml': [
        'name: shop',
        'models:',
        '  shop:',
        '    prod_only:',
        `      +enabled: "{{ target.name == 'prod' }}"`,
        'seeds:',
        '  shop:',
        `    +enabled: "{{ var('load_seeds', true) }}"`,
      ].join('\n'),
      'models/prod_only/a.sql': 'select 1 as id',
      'models/b.sql': "{{ config(enabled=target.name != 'prod') }}select 1 as id",
      'models/schema.yml': `version: 2\nmodels:\n  - name: c\n    config:\n      enabled: "{{ var('with_c') }}"\n`,
      'models/c.sql': 'select 1 as id',
      'seeds/s.csv': 'id\n1\n',
    };
    const dir = await writeProject(files);
    const ids = async (options: { target?: { name: string }; vars?: Record<string, unknown> }) => {
      const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics', ...options });
      expect(diagnostics).toEqual([]);
      return Object.keys(graph.nodes).sort();
    };
    expect(await ids({ vars: { with_c: false } })).toEqual(['model.shop.b', 'seed.shop.s']);
    expect(await ids({ target: { name: 'prod' }, vars: { with_c: 'True', load_seeds: false } })).toEqual([
      'model.shop.a',
      'model.shop.c',
    ]);
  });

  it('renders source database / schema / identifier / loaded_at_field with var(), env_var() and target', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\nvars:\n  raw_schema: landing\n',
      'models/sources.yml': [
        'version: 2',
        'sources:',
        '  - name: raw',
        `    schema: "{{ var('raw_schema') }}"`,
        '    tables:',
        '      - name: orders',
        `        identifier: "{{ env_var('ORDERS_TABLE', 'orders_v1') }}"`,
        `        loaded_at_field: "{{ '_loaded_at' if target.name == 'default' else 'ts' }}"`,
        '  - name: crm',
        `    database: "{{ env_var('RAW_DB') }}"`,
        `    schema: "{{ target.schema }}_raw"`,
        '    tables:',
        '      - name: customers',
      ].join('\n'),
      'models/o.sql': "select * from {{ source('raw', 'orders') }}, {{ source('crm', 'customers') }}",
    });
    const { graph, diagnostics } = await compileProject({
      dir,
      schema: 'analytics',
      env: { ORDERS_TABLE: 'orders_v2', RAW_DB: 'lake' },
    });
    expect(diagnostics).toEqual([]);
    const orders = node<SourceNode>(graph, 'source.shop.raw.orders');
    expect(orders.relation.sql).toBe('"landing"."orders_v2"');
    expect(orders.loadedAtField).toBe('_loaded_at');
    expect(node<SourceNode>(graph, 'source.shop.crm.customers').relation.sql).toBe(
      '"lake"."analytics_raw"."customers"',
    );
  });

  it('+meta and +docs are merged across layers and carried on the node', async () => {
    const dir = await writeProject({
      'dbt_project.yml': [
        'name: shop',
        'models:',
        '  shop:',
        '    +meta: { owner: data, tier: 2 }',
        '    +docs: { node_color: red }',
      ].join('\n'),
      'models/schema.yml': `version: 2\nmodels:\n  - name: m\n    meta:\n      tier: 1\n    config:\n      meta:\n        pii: "{{ var('pii', false) }}"\n`,
      'models/m.sql': "{{ config(docs={'show': false}) }}select 1 as id",
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(diagnostics).toEqual([]);
    expect(node<ModelNode>(graph, 'model.shop.m').config).toMatchObject({
      meta: { owner: 'data', tier: 1, pii: false },
      docs: { node_color: 'red', show: false },
    });
  });

  it('renderYamlValue reads rendered text natively and reports what does not render', () => {
    const ctx = testContext({ n: 3 });
    const site = { packageName: undefined, file: 'dbt_project.yml' };
    expect(renderYamlValue(ctx, "{{ var('n') * 2 }}", site)).toBe(6);
    expect(renderYamlValue(ctx, ['{{ 1 == 1 }}', 'plain', { k: "{{ 'x' ~ 'y' }}" }], site)).toEqual([
      true,
      'plain',
      { k: 'xy' },
    ]);
    expect(renderYamlValue(ctx, "{{ ref('x') }}", site)).toBe("{{ ref('x') }}");
    expect(ctx.diagnostics.list).toEqual([
      expect.objectContaining({ code: 'CONFIG_ERROR', file: 'dbt_project.yml' }),
    ]);
    expect(ctx.diagnostics.list[0]?.message).toContain('ref() is not available in YAML values');
  });
});
