import { describe, expect, it } from 'vitest';
import {
  assertCompiled,
  compileProject,
  defineModel,
  defineProject,
  type ModelNode,
  manifestJson,
  planBuild,
  RELATION_PLACEHOLDER,
  type SourceNode,
  selectNodes,
  sql,
  type TestNode,
} from '../src/index.js';
import { resolveSourceLocation } from '../src/schema-yml.js';
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
      'models/badcfg.sql': `{{ config(materialized=['table']) }}select 1`,
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
    // A name over 63 bytes only warns: dbt compiles it, dbt-postgres fails it when it runs.
    expect(diagnostics.filter((d) => d.severity !== 'error').map((d) => d.code)).toEqual(['NAME_TOO_LONG']);
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

describe('linking by relation identity (issue 11)', () => {
  it('ref() of a loaded relation and TypeScript models keep the edge to the source of the same table, so source:raw+ selects them', async () => {
    const m = defineModel({ name: 'ts_orders', sql: ({ ref }) => sql`select * from ${ref('raw_orders')}` });
    const { graph, diagnostics } = await compileProject({
      project: defineProject({ name: 'shop', models: [m] }),
      schema: 'a',
      externalRelations: [{ name: 'raw_orders', schema: 'public', identifier: 'raw_orders' }],
      sources: { raw: { orders: { schema: 'public', identifier: 'raw_orders' } } },
    });
    expect(diagnostics).toEqual([]);
    expect(model(graph, 'ts_orders').dependsOn).toEqual(['source.shop.raw.orders']);
    expect(graph.childMap['source.shop.raw.orders']).toEqual(['model.shop.ts_orders']);
    expect(selectNodes(graph, { select: ['source:raw+'] })).toEqual(['model.shop.ts_orders']);
  });

  it('a model reading a seed through source() waits for that seed (regression: CTAS deadlocked with the seed swap)', async () => {
    const dir = await writeProject({
      'dbt_project.yml': projectYml(),
      'seeds/raw_items.csv': 'id\n1\n',
      'models/sources.yml':
        'version: 2\nsources:\n  - name: raw\n    schema: s\n    tables:\n      - name: items\n        identifier: raw_items\n',
      'models/items.sql': `select * from {{ source('raw', 'items') }}`,
      'models/by_ref.sql': `select * from {{ ref('raw_items') }}`,
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 's' });
    expect(diagnostics).toEqual([]);
    expect(model(graph, 'items').dependsOn).toEqual(['source.shop.raw.items', 'seed.shop.raw_items']);
    expect(model(graph, 'by_ref').dependsOn).toEqual(['seed.shop.raw_items', 'source.shop.raw.items']);
    expect(planBuild(graph).waitsFor['model.shop.items']).toEqual(['seed.shop.raw_items']);
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

describe('singular tests as audits', () => {
  it('emit the placeholder token for ref() of the tested model, leaving the relation name elsewhere untouched (regression: naive replace of the published name)', async () => {
    const dir = await writeProject({
      'dbt_project.yml': projectYml(),
      'seeds/codes.csv': 'code\nA\n',
      'models/orders.sql': `select 1 as id, 2 as amount`,
      // Reads the live version by name on purpose: only ref() may become the audited relation.
      'tests/assert_orders_do_not_shrink.sql': [
        `select n.n from (select count(*) as n from {{ ref('orders') }}) as n`,
        `where n.n < (select count(*) from "{{ target.schema }}"."orders")`,
      ].join('\n'),
      'tests/assert_codes_known.sql': `select * from {{ ref('codes') }} where code not in ('A', 'B')`,
      'tests/assert_two_models.sql': `select * from {{ ref('orders') }} join {{ ref('codes') }} on true where false`,
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'a' });
    expect(diagnostics).toEqual([]);
    const byName = Object.fromEntries(
      Object.values(graph.nodes)
        .filter((n): n is TestNode => n.resourceType === 'test')
        .map((t) => [t.name, t]),
    );
    const shrink = byName.assert_orders_do_not_shrink as TestNode;
    expect(shrink.attachedNode).toBe('model.shop.orders');
    expect(shrink.sqlTemplate).toBe(
      `select n.n from (select count(*) as n from ${RELATION_PLACEHOLDER}) as n\nwhere n.n < (select count(*) from "a"."orders")`,
    );
    // What target/ and the manifest show is the real, published relation.
    expect(shrink.compiled.sql).toBe(
      'select n.n from (select count(*) as n from "a"."orders") as n\nwhere n.n < (select count(*) from "a"."orders")',
    );
    const manifestNodes = manifestJson(graph).nodes as Record<string, { compiled_code: string }>;
    expect(manifestNodes[shrink.uniqueId]?.compiled_code).toBe(shrink.compiled.sql);
    expect(byName.assert_codes_known?.attachedNode).toBe('seed.shop.codes');
    expect(byName.assert_codes_known?.sqlTemplate).toBe(
      `select * from ${RELATION_PLACEHOLDER} where code not in ('A', 'B')`,
    );
    // Two parents: no tested relation, no template; it runs after both are published.
    expect(byName.assert_two_models?.attachedNode).toBeUndefined();
    expect(byName.assert_two_models?.sqlTemplate).toBeUndefined();
  });

  it('only a test whose template holds the token becomes an audit; generic tests ref() their own model as the token too', async () => {
    const dir = await writeProject({
      'dbt_project.yml': projectYml(),
      'models/customers.sql': 'select 1 as id',
      'models/orders.sql': `select 1 as id, 1 as customer_id from {{ ref('customers') }}`,
      // Reads orders only in a condition: attached to orders, but nothing to point at the temp relation.
      'tests/assert_conditional.sql': `{% if ref('orders') %}select 1 where false{% endif %}`,
      'tests/generic/no_orphans.sql': `{% test no_orphans(model, column_name) %}select * from {{ ref('orders') }} o where o.{{ column_name }} not in (select id from {{ ref('customers') }}){% endtest %}`,
      'models/schema.yml':
        'version: 2\nmodels:\n  - name: orders\n    columns:\n      - name: customer_id\n        tests: [no_orphans]\n',
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'a' });
    expect(diagnostics).toEqual([]);
    const byName = Object.fromEntries(
      Object.values(graph.nodes)
        .filter((n): n is TestNode => n.resourceType === 'test')
        .map((t) => [t.name, t]),
    );
    expect(byName.assert_conditional?.attachedNode).toBe('model.shop.orders');
    expect(byName.assert_conditional?.sqlTemplate).toBe('select 1 where false');
    expect(byName.no_orphans_orders_customer_id?.sqlTemplate).toBe(
      `select * from ${RELATION_PLACEHOLDER} o where o.customer_id not in (select id from "a"."customers")`,
    );
    const plan = planBuild(graph);
    expect(plan.audits).toEqual({ 'model.shop.orders': [byName.no_orphans_orders_customer_id?.uniqueId] });
    expect(plan.order).toContain(byName.assert_conditional?.uniqueId);
  });

  it("a custom test's `model` and `ref()` / `source()` arguments are Relations it depends on (dbt renders test arguments)", async () => {
    const dir = await writeProject({
      'dbt_project.yml': projectYml(),
      'models/customers.sql': 'select 1 as id',
      'models/orders.sql': 'select 1 as id',
      'tests/generic/same_rows.sql':
        '{% test same_rows(model, other, raw) %}select * from {{ model }} except select * from {{ other }} where {{ other.identifier == "customers" }} and {{ raw.identifier }} is null and not {{ model.is_cte }}{% endtest %}',
      'models/schema.yml': [
        'version: 2',
        'sources:',
        '  - name: src',
        '    tables: [{ name: events }]',
        'models:',
        '  - name: orders',
        '    tests:',
        '      - same_rows:',
        "          other: ref('customers')",
        "          raw: \"source('src', 'events')\"",
      ].join('\n'),
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'a' });
    expect(diagnostics).toEqual([]);
    const test = Object.values(graph.nodes).find((n): n is TestNode => n.resourceType === 'test');
    expect(test?.sqlTemplate).toBe(
      `select * from ${RELATION_PLACEHOLDER} except select * from "a"."customers" where True and events is null and not False`,
    );
    expect(test?.dependsOn.sort()).toEqual([
      'model.shop.customers',
      'model.shop.orders',
      'source.shop.src.events',
    ]);
  });

  it('TypeScript singular tests get the same template', async () => {
    const orders = defineModel({ name: 'orders', sql: () => 'select 1 as id' });
    const { graph, diagnostics } = await compileProject({
      project: defineProject({
        name: 'shop',
        models: [orders],
        tests: [
          { name: 'no_null_ids', sql: ({ ref }) => sql`select * from ${ref('orders')} where id is null` },
        ],
      }),
      schema: 'a',
    });
    expect(diagnostics).toEqual([]);
    const t = Object.values(graph.nodes).find((n): n is TestNode => n.resourceType === 'test');
    expect(t?.sqlTemplate).toBe(`select * from ${RELATION_PLACEHOLDER} where id is null`);
    expect(t?.compiled.sql).toBe('select * from "a"."orders" where id is null');
  });
});

describe('source locations: schema.yml merged with CompileOptions.sources', () => {
  const given = { schema: 'analytics', identifier: 'raw_orders' };
  it.each([
    ['nothing stated, nothing given: dbt defaults', {}, undefined, { schema: 'raw', identifier: 'orders' }],
    ['nothing stated: the given location', {}, given, { schema: 'analytics', identifier: 'raw_orders' }],
    ['stated schema wins', { schema: 'landing' }, given, { schema: 'landing', identifier: 'raw_orders' }],
    [
      'stated identifier wins',
      { identifier: 'orders_v2' },
      given,
      { schema: 'analytics', identifier: 'orders_v2' },
    ],
    [
      'stated database is kept',
      { database: 'wh', schema: 'landing', identifier: 'o' },
      given,
      { database: 'wh', schema: 'landing', identifier: 'o' },
    ],
  ] as const)('%s', (_label, stated, location, expected) => {
    expect(resolveSourceLocation({ sourceName: 'raw', name: 'orders', ...stated }, location)).toEqual(
      expected,
    );
  });

  it('a schema.yml source without schema/identifier takes the CompileOptions.sources location and keeps its tests, columns, freshness (regression: it read raw.orders)', async () => {
    const dir = await writeProject({
      'dbt_project.yml': projectYml(),
      'models/stg_orders.sql': `select * from {{ source('raw', 'orders') }} join {{ source('raw', 'items') }} using (id)`,
      'models/sources.yml': [
        'version: 2',
        'sources:',
        '  - name: raw',
        '    loaded_at_field: _loaded_at',
        '    freshness: { warn_after: { count: 1, period: day } }',
        '    tables:',
        '      - name: orders',
        '        description: orders loaded by the CLI',
        '        columns:',
        '          - name: id',
        '            description: order id',
        '            tests: [not_null]',
        '      - name: items',
        '        identifier: items_v2',
        '        freshness: null',
        '      - name: refunds',
        '  - name: erp',
        '    database: wh',
        '    schema: erp_live',
        '    tables:',
        '      - name: invoices',
      ].join('\n'),
    });
    const { graph, diagnostics } = await compileProject({
      dir,
      schema: 'analytics',
      sources: {
        raw: {
          orders: { schema: 'analytics', identifier: 'raw_orders' },
          items: { schema: 'analytics', identifier: 'raw_items' },
          customers: { schema: 'analytics', identifier: 'raw_customers' },
        },
        erp: { invoices: { schema: 'analytics', identifier: 'raw_invoices' } },
      },
    });
    expect(diagnostics).toEqual([]);
    const source = (s: string, t: string) => graph.nodes[`source.shop.${s}.${t}`] as SourceNode;
    expect(source('raw', 'orders').relation).toEqual({
      schema: 'analytics',
      identifier: 'raw_orders',
      sql: '"analytics"."raw_orders"',
    });
    expect(source('raw', 'orders')).toMatchObject({
      file: 'models/sources.yml',
      description: 'orders loaded by the CLI',
      columns: { id: { description: 'order id' } },
      freshness: { warn_after: { count: 1, period: 'day' } },
      loadedAtField: '_loaded_at',
    });
    // The table's own identifier wins; the schema still comes from the caller.
    expect(source('raw', 'items').relation.sql).toBe('"analytics"."items_v2"');
    expect(source('raw', 'items').freshness).toBeUndefined();
    // Declared but not given: dbt's default location. Given but not declared: as given.
    expect(source('raw', 'refunds').relation.sql).toBe('"raw"."refunds"');
    expect(source('raw', 'customers').relation.sql).toBe('"analytics"."raw_customers"');
    expect(source('erp', 'invoices').relation).toEqual({
      database: 'wh',
      schema: 'erp_live',
      identifier: 'raw_invoices',
      sql: '"wh"."erp_live"."raw_invoices"',
    });
    expect(model(graph, 'stg_orders').compiledSql).toBe(
      'select * from "analytics"."raw_orders" join "analytics"."items_v2" using (id)',
    );
    const test = Object.values(graph.nodes).find((n): n is TestNode => n.resourceType === 'test');
    expect(test?.name).toBe('source_not_null_raw_orders_id');
    expect(test?.compiled.sql).toContain('from "analytics"."raw_orders"');
    const manifestSources = manifestJson(graph).sources as Record<string, Record<string, unknown>>;
    expect(manifestSources['source.shop.raw.orders']).toMatchObject({
      database: null,
      schema: 'analytics',
      identifier: 'raw_orders',
      loaded_at_field: '_loaded_at',
      columns: { id: { description: 'order id' } },
    });
  });

  it('reports a source location that is not a string', async () => {
    const dir = await writeProject({
      'dbt_project.yml': projectYml(),
      'models/sources.yml':
        'version: 2\nsources:\n  - name: raw\n    schema: [a]\n    tables:\n      - name: orders\n        identifier: 7\n',
    });
    const { diagnostics } = await compileProject({ dir, schema: 'a' });
    expect(diagnostics.map((d) => [d.code, d.message])).toEqual([
      ['CONFIG_ERROR', 'source raw: schema must be a non-empty string'],
      ['CONFIG_ERROR', 'source raw.orders: identifier must be a non-empty string'],
    ]);
  });
});
