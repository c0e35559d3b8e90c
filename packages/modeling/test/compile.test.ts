import { describe, expect, it } from 'vitest';
import {
  assertCompiled,
  compileProject,
  defineModel,
  defineProject,
  type ModelNode,
  sql,
  type TestNode,
} from '../src/index.js';
import { writeProject } from './helpers.js';

const projectYml = (extra = '') => `name: shop\nmodel-paths: [models]\n${extra}`;

const model = (graph: { nodes: Record<string, unknown> }, name: string) =>
  graph.nodes[`model.shop.${name}`] as ModelNode;

describe('dbt-style projects: Jinja features', () => {
  it('renders ref, source, var, this, set/for/loop.last, if, macros, comments and string literals', async () => {
    const dir = await writeProject({
      'dbt_project.yml': projectYml('vars:\n  min_amount: 5\n'),
      'macros/money.sql': `{% macro cents_to_dollars(col, scale=2) %}({{ col }} / 100)::numeric(16, {{ scale }}){% endmacro %}`,
      'models/sources.yml': `version: 2\nsources:\n  - name: raw\n    schema: landing\n    tables:\n      - name: payments\n        identifier: raw_payments\n`,
      'models/base.sql': `select 1 as id, 'a' as method, 500 as amount`,
      'models/report.sql': [
        `{{ config(materialized='table', tags=['nightly']) }}`,
        `{# a comment that must disappear #}`,
        `{% set methods = ['card', 'coupon'] %}`,
        `select {{ "'lit'" }} as lit,`,
        `{% for m in methods %}sum(case when method = '{{ m }}' then 1 else 0 end) as {{ m }}_n{% if not loop.last %},{% endif %}`,
        `{% endfor %}, {{ cents_to_dollars('amount') }} as dollars, '{{ this }}' as me`,
        `from {{ ref('base') }} join {{ source('raw', 'payments') }} using (id)`,
        `where amount > {{ var('min_amount') }}{% if var('flag', false) %} and true{% endif %}`,
      ].join('\n'),
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics', vars: { flag: true } });
    expect(diagnostics).toEqual([]);
    const report = model(graph, 'report');
    expect(report.compiledSql).toBe(
      [
        ``,
        ``,
        ``,
        `select 'lit' as lit,`,
        `sum(case when method = 'card' then 1 else 0 end) as card_n,`,
        `sum(case when method = 'coupon' then 1 else 0 end) as coupon_n`,
        `, (amount / 100)::numeric(16, 2) as dollars, '"analytics"."report"' as me`,
        `from "analytics"."base" join "landing"."raw_payments" using (id)`,
        `where amount > 5 and true`,
      ].join('\n'),
    );
    expect(report.config.materialized).toBe('table');
    expect(report.tags).toEqual(['nightly']);
    expect(report.dependsOn.sort()).toEqual(['model.shop.base', 'source.shop.raw.payments']);
    expect(graph.childMap['model.shop.base']).toEqual(['model.shop.report']);
  });

  it('applies config precedence: folder < schema.yml < inline config(); +schema, +tags accumulate', async () => {
    const dir = await writeProject({
      'dbt_project.yml': projectYml(
        `models:\n  shop:\n    +materialized: table\n    +tags: [all]\n    staging:\n      +materialized: view\n      +schema: stg\n      +tags: staging\n`,
      ),
      'models/staging/stg_a.sql': `select 1 as id`,
      'models/staging/stg_b.sql': `{{ config(materialized='incremental', unique_key='id') }} select 1 as id`,
      'models/staging/stg_c.sql': `select 1 as id`,
      'models/staging/schema.yml': `version: 2\nmodels:\n  - name: stg_c\n    config:\n      materialized: table\n      tags: [yml]\n`,
      'models/mart.sql': `select * from {{ ref('stg_a') }}`,
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(diagnostics).toEqual([]);
    expect(model(graph, 'stg_a').config).toMatchObject({ materialized: 'view', schema: 'stg' });
    expect(model(graph, 'stg_a').relation.sql).toBe('"analytics_stg"."stg_a"');
    expect(model(graph, 'stg_a').tags.sort()).toEqual(['all', 'staging']);
    expect(model(graph, 'stg_b').config).toMatchObject({
      materialized: 'incremental',
      uniqueKey: ['id'],
      incrementalStrategy: 'merge',
    });
    expect(model(graph, 'stg_c').config.materialized).toBe('table');
    expect(model(graph, 'stg_c').tags.sort()).toEqual(['all', 'staging', 'yml']);
    expect(model(graph, 'mart').config.materialized).toBe('table');
    expect(model(graph, 'mart').compiledSql).toBe('select * from "analytics_stg"."stg_a"');
  });

  it('renders incremental models twice: full and with is_incremental()', async () => {
    const dir = await writeProject({
      'dbt_project.yml': projectYml(),
      'models/events.sql': `{{ config(materialized='incremental', unique_key=['id', 'day'], incremental_strategy='delete+insert') }}\nselect * from src\n{% if is_incremental() %}where day > (select max(day) from {{ this }}){% endif %}`,
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'a' });
    expect(diagnostics).toEqual([]);
    const events = model(graph, 'events');
    expect(events.compiledSql).toBe('\nselect * from src\n');
    expect(events.incrementalSql).toBe(
      '\nselect * from src\nwhere day > (select max(day) from "a"."events")',
    );
    expect(events.config).toMatchObject({ uniqueKey: ['id', 'day'], incrementalStrategy: 'delete+insert' });
  });

  it('inlines ephemeral models as __dbt__cte__ CTEs, nested ones first, merged into an existing WITH', async () => {
    const dir = await writeProject({
      'dbt_project.yml': projectYml(),
      'models/e1.sql': `{{ config(materialized='ephemeral') }}select 1 as id`,
      'models/e2.sql': `{{ config(materialized='ephemeral') }}select id from {{ ref('e1') }}`,
      'models/final.sql': `with x as (select * from {{ ref('e2') }}) select * from x`,
      'models/plain.sql': `select * from {{ ref('e1') }}`,
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'a' });
    expect(diagnostics).toEqual([]);
    expect(model(graph, 'final').compiledSql).toBe(
      'with __dbt__cte__e1 as (\nselect 1 as id\n),\n__dbt__cte__e2 as (\nselect id from __dbt__cte__e1\n),\nx as (select * from __dbt__cte__e2) select * from x',
    );
    expect(model(graph, 'plain').compiledSql).toBe(
      'with __dbt__cte__e1 as (\nselect 1 as id\n)\nselect * from __dbt__cte__e1',
    );
    expect(model(graph, 'final').dependsOn).toEqual(['model.shop.e2']);
  });

  it('reads schema.yml tests: string and dict forms, data_tests, arguments (dbt 1.10), config severity, sources and custom {% test %} blocks', async () => {
    const dir = await writeProject({
      'dbt_project.yml': projectYml(),
      'tests/generic/is_positive.sql': `{% test is_positive(model, column_name) %}select * from {{ model }} where {{ column_name }} <= 0{% endtest %}`,
      'tests/assert_no_big_orders.sql': `select * from {{ ref('orders') }} where amount > 1000`,
      'models/orders.sql': `select 1 as id, 2 as amount, 'placed' as status`,
      'models/customers.sql': `select 1 as id`,
      'models/schema.yml': [
        'version: 2',
        'sources:',
        '  - name: raw',
        '    tables:',
        '      - name: orders',
        '        columns:',
        '          - name: id',
        '            data_tests: [not_null]',
        'models:',
        '  - name: orders',
        '    columns:',
        '      - name: id',
        '        tests:',
        '          - unique',
        '          - relationships:',
        "              to: ref('customers')",
        '              field: id',
        '      - name: status',
        '        data_tests:',
        '          - accepted_values:',
        '              arguments:',
        "                values: ['placed', 'shipped']",
        '              config:',
        '                severity: warn',
        '      - name: amount',
        '        tests: [is_positive]',
      ].join('\n'),
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'a' });
    expect(diagnostics).toEqual([]);
    const tests = Object.values(graph.nodes).filter((n): n is TestNode => n.resourceType === 'test');
    const byName = Object.fromEntries(tests.map((t) => [t.name, t]));
    expect(Object.keys(byName).sort()).toEqual([
      'accepted_values_orders_status__placed__shipped',
      'assert_no_big_orders',
      'is_positive_orders_amount',
      'relationships_orders_id__id__ref_customers_',
      'source_not_null_raw_orders_id',
      'unique_orders_id',
    ]);
    expect(byName.accepted_values_orders_status__placed__shipped?.severity).toBe('warn');
    expect(byName.is_positive_orders_amount?.compiled.sql).toBe(
      'select * from "a"."orders" where amount <= 0',
    );
    expect(byName.is_positive_orders_amount?.sqlTemplate).toBe(
      'select * from "__dataflow_tested_relation__" where amount <= 0',
    );
    expect(byName.relationships_orders_id__id__ref_customers_?.dependsOn.sort()).toEqual([
      'model.shop.customers',
      'model.shop.orders',
    ]);
    expect(byName.assert_no_big_orders?.compiled.sql).toBe('select * from "a"."orders" where amount > 1000');
    expect(byName.assert_no_big_orders?.attachedNode).toBe('model.shop.orders');
    expect(byName.source_not_null_raw_orders_id?.attachedNode).toBe('source.shop.raw.orders');
  });
});

describe('diagnostics: every kind is collected, none thrown', () => {
  it('reports unknown ref and source with line, duplicate name, cycle path, template error with line, long names, config errors', async () => {
    const long = `m_${'x'.repeat(62)}`;
    const dir = await writeProject({
      'dbt_project.yml': projectYml(),
      'seeds/dup.csv': 'id\n1\n',
      'models/dup.sql': 'select 1',
      'models/a.sql': `select *\nfrom {{ ref('b') }}`,
      'models/b.sql': `select * from {{ ref('c') }}`,
      'models/c.sql': `select * from {{ ref('a') }}`,
      'models/lost.sql': `select 1\nunion all\nselect * from {{ ref('nowhere') }}\nunion all select * from {{ source('raw', 'missing') }}`,
      'models/broken.sql': `select 1\n\n{{ foo( }}`,
      'models/novar.sql': `select 1\n{{ var('required_thing') }}`,
      [`models/${long}.sql`]: 'select 1',
      'models/badcfg.sql': `{{ config(materialized='snapshot') }}select 1`,
      'models/schema.yml': `version: 2\nmodels:\n  - name: a\n    columns:\n      - name: id\n        tests: [no_such_test]\n`,
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'a' });
    const summary = diagnostics.map((d) => [d.code, d.node, d.file, d.line]);
    expect(summary).toEqual(
      expect.arrayContaining([
        ['DUPLICATE_NAME', 'dup', 'models/dup.sql', undefined],
        ['UNKNOWN_REF', 'lost', 'models/lost.sql', 3],
        ['UNKNOWN_SOURCE', 'lost', 'models/lost.sql', 4],
        ['TEMPLATE_ERROR', 'broken', 'models/broken.sql', 3],
        ['TEMPLATE_ERROR', 'novar', 'models/novar.sql', 2],
        ['NAME_TOO_LONG', long, `models/${long}.sql`, undefined],
        ['CONFIG_ERROR', 'badcfg', 'models/badcfg.sql', undefined],
        ['UNKNOWN_TEST', 'a', 'models/schema.yml', undefined],
      ]),
    );
    const cycle = diagnostics.find((d) => d.code === 'CYCLE');
    expect(cycle?.message).toMatch(/dependency cycle: (a -> b -> c -> a|b -> c -> a -> b|c -> a -> b -> c)/);
    expect(diagnostics.find((d) => d.code === 'TEMPLATE_ERROR' && d.node === 'novar')?.message).toMatch(
      /required_thing/,
    );
    expect(diagnostics.every((d) => d.severity === 'error')).toBe(true);
    expect(diagnostics).toHaveLength(9);
    // The graph is still produced for everything that compiled.
    expect(graph.nodes['model.shop.a']).toBeDefined();
    expect(JSON.parse(JSON.stringify(graph))).toEqual(graph);
  });

  it('throws a typed error only when the project file is missing or invalid', async () => {
    const empty = await writeProject({ 'models/a.sql': 'select 1' });
    await expect(compileProject({ dir: empty, schema: 'a' })).rejects.toMatchObject({
      name: 'ModelingError',
      code: 'PROJECT_NOT_FOUND',
    });
    const bad = await writeProject({ 'dataflow.yml': 'model-paths: [models]' });
    await expect(compileProject({ dir: bad, schema: 'a' })).rejects.toMatchObject({
      code: 'PROJECT_CONFIG_INVALID',
    });
  });
});

describe('TypeScript API', () => {
  const base = defineModel({
    name: 'base',
    materialized: 'table',
    sql: () => sql`select ${1} as id, ${"it's"} as label`,
  });
  const top = defineModel({
    name: 'top',
    refs: ['base'],
    materialized: 'incremental',
    uniqueKey: 'id',
    columns: { id: { tests: ['unique', 'not_null'] } },
    sql: ({ ref, self, isIncremental }) =>
      sql`select * from ${ref('base')}${isIncremental ? sql` where id > (select max(id) from ${self})` : sql``}`,
  });

  it('compiles to the same graph shapes as a dbt project', async () => {
    const project = defineProject({ name: 'shop', models: [base, top] });
    const { graph, diagnostics } = await compileProject({ project, schema: 'a' });
    expect(diagnostics).toEqual([]);
    expect(model(graph, 'base').compiledSql).toBe(`select 1 as id, 'it''s' as label`);
    expect(model(graph, 'top').compiledSql).toBe('select * from "a"."base"');
    expect(model(graph, 'top').incrementalSql).toBe(
      'select * from "a"."base" where id > (select max(id) from "a"."top")',
    );
    expect(model(graph, 'top').config).toMatchObject({
      materialized: 'incremental',
      uniqueKey: ['id'],
      incrementalStrategy: 'merge',
    });
    expect(Object.keys(graph.nodes).filter((id) => id.startsWith('test.')).length).toBe(2);
  });

  it('checks ref() at compile time when the type check was bypassed', async () => {
    const stray = defineModel({ name: 'stray', sql: ({ ref }) => sql`select * from ${ref('ghost')}` });
    const project = defineProject({ name: 'shop', models: [stray] });
    const { diagnostics } = await compileProject({ project, schema: 'a' });
    expect(diagnostics.map((d) => [d.code, d.node])).toEqual([['UNKNOWN_REF', 'stray']]);
  });

  it('rejects unknown refs at the type level', () => {
    const orphan = defineModel({
      name: 'orphan',
      refs: ['missing'],
      sql: ({ ref }) => sql`select * from ${ref('missing')}`,
    });
    // @ts-expect-error 'missing' is neither a model, a seed nor an external
    defineProject({ name: 'shop', models: [orphan] });
    defineProject({ name: 'shop', models: [orphan], externals: ['missing'] });
    const typed = defineModel({
      name: 't',
      refs: ['base'],
      sql: ({ ref }) => sql`select * from ${ref('base')}`,
    });
    // @ts-expect-error ref() only takes declared names
    defineModel({ name: 'u', refs: ['base'], sql: ({ ref }) => sql`select * from ${ref('other')}` });
    expect(typed.refs).toEqual(['base']);
  });

  it('resolves external relations and CLI sources', async () => {
    const m = defineModel({
      name: 'm',
      sql: ({ ref, source }) =>
        sql`select * from ${ref('raw_orders')} join ${source('raw', 'payments')} using (id)`,
    });
    const { graph, diagnostics } = await compileProject({
      project: defineProject({ name: 'shop', models: [m] }),
      schema: 'a',
      externalRelations: [{ name: 'raw_orders', schema: 'public', identifier: 'raw_orders' }],
      sources: { raw: { payments: { schema: 'public', identifier: 'raw_payments' } } },
    });
    expect(diagnostics).toEqual([]);
    expect(model(graph, 'm').compiledSql).toBe(
      'select * from "public"."raw_orders" join "public"."raw_payments" using (id)',
    );
  });
});

describe('assertCompiled', () => {
  it('returns the graph without errors and throws COMPILE_FAILED listing them otherwise', async () => {
    const ok = await writeProject({ 'dbt_project.yml': projectYml(), 'models/a.sql': 'select 1' });
    expect(Object.keys(assertCompiled(await compileProject({ dir: ok, schema: 's' })).nodes)).toEqual([
      'model.shop.a',
    ]);
    const bad = await writeProject({
      'dbt_project.yml': projectYml(),
      'models/a.sql': `select\n{{ ref('zz') }}`,
    });
    const result = await compileProject({ dir: bad, schema: 's' });
    expect(() => assertCompiled(result)).toThrow(
      expect.objectContaining({
        code: 'COMPILE_FAILED',
        message:
          '1 compile error(s): models/a.sql:2 UNKNOWN_REF: a references zz, which is not a model, seed or loaded relation',
      }),
    );
  });
});

describe('self-referencing tests', () => {
  it('point both sides of a self-relationship at the tested relation, so audits compare temp with temp', async () => {
    const dir = await writeProject({
      'dbt_project.yml': projectYml(),
      'models/employees.sql': 'select 1 as id, null::int as manager_id',
      'models/schema.yml': `version: 2\nmodels:\n  - name: employees\n    columns:\n      - name: manager_id\n        tests:\n          - relationships: { to: "ref('employees')", field: id }\n`,
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'a' });
    expect(diagnostics).toEqual([]);
    const test = Object.values(graph.nodes).find((n): n is TestNode => n.resourceType === 'test');
    expect(test?.sqlTemplate).not.toContain('"a"."employees"');
    expect(test?.compiled.sql).not.toContain('__dataflow_tested_relation__');
    expect(test?.compiled.sql.split('"a"."employees"').length).toBe(3);
  });
});
