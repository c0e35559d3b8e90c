import { describe, expect, it } from 'vitest';
import {
  compileProject,
  planBuild,
  type SnapshotNode,
  selectNodes,
  type UnitTestNode,
} from '../src/index.js';
import { writeProject } from './helpers.js';

const project = {
  'dbt_project.yml': 'name: shop\nvars:\n  min_amount: 0\n',
  'models/sources.yml': `
sources:
  - name: raw
    schema: landing
    tables: [{ name: customers }, { name: orders }]
`,
  'snapshots/customers.sql': `-- customers over time
{% snapshot customers_snapshot %}
{{ config(strategy='timestamp', unique_key='id', updated_at='updated_at', invalidate_hard_deletes=true) }}
select * from {{ source('raw', 'customers') }}
{% endsnapshot %}
`,
  'snapshots/orders.yml': `
snapshots:
  - name: orders_snapshot
    relation: source('raw', 'orders')
    config: { strategy: check, unique_key: [id, line], check_cols: all, hard_deletes: new_record, target_schema: history }
    columns:
      - name: id
        tests: [not_null]
`,
  'models/dim_customers.sql': `select id, name from {{ ref('customers_snapshot') }} where dbt_valid_to is null`,
  'models/customer_totals.sql': `select customer_id, sum(amount) as total
from {{ source('raw', 'orders') }}
where amount > {{ var('min_amount') }}
{% if env_var('DF_UT_REGION', 'all') != 'all' %}and region = '{{ env_var('DF_UT_REGION') }}'{% endif %}
group by customer_id`,
  'models/unit_tests.yml': `
unit_tests:
  - name: sums_amounts
    model: customer_totals
    overrides: { vars: { min_amount: 5 }, env_vars: { DF_UT_REGION: eu } }
    given:
      - input: source('raw', 'orders')
        rows: [{ customer_id: 1, amount: 10, region: eu }]
    expect:
      rows: [{ customer_id: 1, total: 10 }]
`,
};

describe('compiling snapshots and unit tests', () => {
  it('adds snapshot nodes (block and YAML) with edges, and unit tests rendered against temp inputs', async () => {
    const dir = await writeProject(project);
    const { graph, diagnostics } = await compileProject({ dir, schema: 'analytics' });
    expect(diagnostics).toEqual([]);
    const block = graph.nodes['snapshot.shop.customers_snapshot'] as SnapshotNode;
    expect(block).toMatchObject({
      resourceType: 'snapshot',
      file: 'snapshots/customers.sql',
      relation: {
        schema: 'analytics',
        identifier: 'customers_snapshot',
        sql: '"analytics"."customers_snapshot"',
      },
      dependsOn: ['source.shop.raw.customers'],
      config: {
        strategy: 'timestamp',
        uniqueKey: ['id'],
        updatedAt: 'updated_at',
        hardDeletes: 'invalidate',
      },
    });
    expect(block.compiledSql).toBe('select * from "landing"."customers"');
    const yml = graph.nodes['snapshot.shop.orders_snapshot'] as SnapshotNode;
    expect(yml).toMatchObject({
      relation: { sql: '"history"."orders_snapshot"' },
      config: { strategy: 'check', uniqueKey: ['id', 'line'], checkCols: 'all', hardDeletes: 'new_record' },
      compiledSql: 'select * from "landing"."orders"',
    });
    // A model reads the snapshot by ref(); the snapshot's YAML tests attach to it.
    expect(graph.nodes['model.shop.dim_customers']?.dependsOn).toEqual(['snapshot.shop.customers_snapshot']);
    expect(
      graph.childMap['snapshot.shop.orders_snapshot']?.some((id) => id.startsWith('test.shop.not_null')),
    ).toBe(true);

    const unit = graph.nodes['unit_test.shop.customer_totals.sums_amounts'] as UnitTestNode;
    expect(unit).toMatchObject({ resourceType: 'unit_test', attachedNode: 'model.shop.customer_totals' });
    expect(unit.spec.inputs).toEqual([
      {
        input: "source('raw', 'orders')",
        tempName: '__df_ut_0_raw_orders_0',
        relation: { schema: 'landing', identifier: 'orders', sql: '"landing"."orders"' },
        fixture: {
          format: 'dict',
          columns: ['customer_id', 'amount', 'region'],
          rows: [{ customer_id: 1, amount: 10, region: 'eu' }],
        },
      },
    ]);
    // vars and env vars overridden; the source reads the temp table, not the real one.
    expect(unit.spec.sql).toBe(`select customer_id, sum(amount) as total
from "pg_temp"."__df_ut_0_raw_orders_0"
where amount > 5
and region = 'eu'
group by customer_id`);
    expect(graph.nodes['model.shop.customer_totals']).toMatchObject({
      compiledSql: expect.stringContaining('where amount > 0\n\ngroup by'),
    });
  });

  it('build plan: snapshots in DAG order, a unit test before its model; selection by type', async () => {
    const dir = await writeProject(project);
    const { graph } = await compileProject({ dir, schema: 'analytics' });
    const plan = planBuild(graph, {});
    const at = (id: string) => plan.order.indexOf(id);
    expect(at('snapshot.shop.customers_snapshot')).toBeLessThan(at('model.shop.dim_customers'));
    expect(at('unit_test.shop.customer_totals.sums_amounts')).toBe(at('model.shop.customer_totals') - 1);
    expect(plan.waitsFor['unit_test.shop.customer_totals.sums_amounts']).toEqual([]);
    expect(plan.waitsFor['model.shop.customer_totals']).toEqual([
      'unit_test.shop.customer_totals.sums_amounts',
    ]);
    expect(plan.waitsFor['model.shop.dim_customers']).toEqual(['snapshot.shop.customers_snapshot']);
    expect(selectNodes(graph, { select: ['test_type:unit'] })).toEqual([
      'unit_test.shop.customer_totals.sums_amounts',
    ]);
    expect(selectNodes(graph, { select: ['resource_type:snapshot'], indirectSelection: 'empty' })).toEqual([
      'snapshot.shop.customers_snapshot',
      'snapshot.shop.orders_snapshot',
    ]);
    // A unit test comes with its model (indirect selection) and goes with it (exclude).
    expect(selectNodes(graph, { select: ['customer_totals'] })).toEqual([
      'model.shop.customer_totals',
      'unit_test.shop.customer_totals.sums_amounts',
    ]);
    expect(selectNodes(graph, { exclude: ['customer_totals'] })).not.toContain(
      'unit_test.shop.customer_totals.sums_amounts',
    );
    expect(planBuild(graph, { resourceTypes: ['model'] }).order).not.toContain(
      'unit_test.shop.customer_totals.sums_amounts',
    );
  });

  it('macro overrides: a macro returns the given value, is_incremental() follows its override', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\n',
      'macros/region.sql': "{% macro current_region() %}'eu'{% endmacro %}",
      'models/sources.yml': 'sources:\n  - name: raw\n    tables: [{ name: events }]\n',
      'models/fct.sql': `{{ config(materialized='incremental', unique_key='id') }}
select id from {{ source('raw', 'events') }} where region = {{ current_region() }}
{% if is_incremental() %}and id > (select max(id) from {{ this }}){% endif %}`,
      'models/unit.yml': `
unit_tests:
  - name: overridden
    model: fct
    overrides: { macros: { current_region: "'us'", is_incremental: false } }
    given: [{ input: "source('raw', 'events')", rows: [{ id: 1 }] }, { input: this, rows: [{ id: 0 }] }]
    expect: { rows: [{ id: 1 }] }
`,
    });
    const { graph, diagnostics } = await compileProject({ dir, schema: 'a' });
    expect(diagnostics).toEqual([]);
    const unit = graph.nodes['unit_test.shop.fct.overridden'] as UnitTestNode;
    expect(unit.spec.sql.trim()).toBe(
      `select id from "pg_temp"."__df_ut_0_raw_events_0" where region = 'us'`,
    );
    expect(unit.spec.applyToThis).toBe(false);
    // The override lasts for the test's render only.
    expect((graph.nodes['model.shop.fct'] as { compiledSql: string }).compiledSql).toContain("region = 'eu'");
  });

  it('reports bad snapshots and unit tests as diagnostics', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\n',
      'models/sources.yml': 'sources:\n  - name: raw\n    tables: [{ name: orders }, { name: customers }]\n',
      'models/orders.sql': `select * from {{ source('raw', 'orders') }} join {{ source('raw', 'customers') }} using (id)`,
      'snapshots/bad.sql': `{% snapshot bad_snapshot %}\n{{ config(strategy='timestamp') }}\nselect * from {{ ref('nope') }}\n{% endsnapshot %}\n{% snapshot open %}\nselect 1`,
      'models/unit.yml': `
unit_tests:
  - name: missing_input
    model: orders
    given: [{ input: "source('raw', 'orders')", rows: [{ id: 1 }] }]
    expect: { rows: [{ id: 1 }] }
  - name: no_model
    model: nope
    given: []
    expect: { rows: [] }
  - name: missing_input
    model: orders
    given: []
    expect: { rows: [] }
`,
    });
    const { diagnostics } = await compileProject({ dir, schema: 'a' });
    expect(diagnostics.map((d) => [d.code, d.message, d.file, d.line])).toEqual([
      ['CONFIG_ERROR', 'snapshot open has no {% endsnapshot %}', 'snapshots/bad.sql', 5],
      [
        'CONFIG_ERROR',
        'snapshot bad_snapshot: unique_key is required: a column name or a list of column names',
        'snapshots/bad.sql',
        1,
      ],
      [
        'CONFIG_ERROR',
        'snapshot bad_snapshot: the timestamp strategy needs updated_at',
        'snapshots/bad.sql',
        1,
      ],
      [
        'CONFIG_ERROR',
        "unit test missing_input: model orders reads source('raw', 'customers'), which has no given input",
        'models/unit.yml',
        undefined,
      ],
      ['UNKNOWN_REF', 'unit test no_model: model nope does not exist', 'models/unit.yml', undefined],
      [
        'DUPLICATE_NAME',
        'unit test missing_input of model orders is declared twice (also in models/unit.yml)',
        'models/unit.yml',
        undefined,
      ],
    ]);
  });
});
