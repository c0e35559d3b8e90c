import { describe, expect, it } from 'vitest';
import {
  type CompiledTest,
  compileGenericTest,
  compileSingularTest,
  createTestRegistry,
  type GenericTestInvocation,
  QualityError,
  type RelationResolver,
} from '../src/index.js';

// Resolves ref('x') / source('a','b') / bare names into "analytics"-qualified SQL.
const ctx: RelationResolver = {
  relation: '"analytics"."orders"',
  resolve(ref) {
    const refMatch = /^ref\(\s*'([^']+)'\s*\)$/.exec(ref);
    if (refMatch) return `"analytics"."${refMatch[1]}"`;
    const sourceMatch = /^source\(\s*'([^']+)'\s*,\s*'([^']+)'\s*\)$/.exec(ref);
    if (sourceMatch) return `"${sourceMatch[1]}"."${sourceMatch[2]}"`;
    return `"analytics"."${ref}"`;
  },
};

const compile = (inv: Omit<GenericTestInvocation, 'model'> & { model?: string }): CompiledTest =>
  compileGenericTest({ model: 'orders', ...inv }, ctx);

function compileError(fn: () => unknown): QualityError {
  try {
    fn();
  } catch (error) {
    if (error instanceof QualityError) return error;
    throw error;
  }
  throw new Error('expected a QualityError');
}

describe('golden SQL of built-in tests', () => {
  it('not_null selects every column of rows where the column is null', () => {
    const test = compile({ test: 'not_null', column: 'amount', args: {} });
    expect(test.sql).toBe('select *\nfrom "analytics"."orders"\nwhere "amount" is null');
    expect(test).toMatchObject({
      name: 'not_null_orders_amount',
      alias: 'not_null_orders_amount',
      severity: 'error',
      model: 'orders',
      column: 'amount',
      test: 'not_null',
      keyColumns: ['amount'],
    });
    expect(test.config).toEqual({ severity: 'error', warnIf: '!=0', errorIf: '!=0', storeFailuresLimit: 20 });
  });

  it('unique groups non-null values having more than one row (dbt query)', () => {
    const test = compile({ test: 'unique', column: 'order_id', args: {} });
    expect(test.sql).toBe(
      [
        'select',
        '    "order_id" as unique_field,',
        '    count(*) as n_records',
        'from "analytics"."orders"',
        'where "order_id" is not null',
        'group by "order_id"',
        'having count(*) > 1',
      ].join('\n'),
    );
    expect(test.keyColumns).toEqual(['unique_field']);
  });

  it('accepted_values quotes values and escapes quotes', () => {
    const test = compile({ test: 'accepted_values', column: 'status', args: { values: ['placed', "it's"] } });
    expect(test.sql).toBe(
      [
        'with all_values as (',
        '    select',
        '        "status" as value_field,',
        '        count(*) as n_records',
        '    from "analytics"."orders"',
        '    group by "status"',
        ')',
        '',
        'select *',
        'from all_values',
        `where value_field not in ('placed', 'it''s')`,
      ].join('\n'),
    );
  });

  it('accepted_values with quote: false pastes values as SQL', () => {
    const test = compile({
      test: 'accepted_values',
      column: 'tier',
      args: { values: [1, 2, true], quote: false },
    });
    expect(test.sql.split('\n').at(-1)).toBe('where value_field not in (1, 2, true)');
  });

  it('relationships anti-joins non-null child values to the resolved parent', () => {
    const test = compile({
      test: 'relationships',
      column: 'customer_id',
      args: { to: "ref('customers')", field: 'customer_id' },
    });
    expect(test.sql).toBe(
      [
        'with child as (',
        '    select "customer_id" as from_field',
        '    from "analytics"."orders"',
        '    where "customer_id" is not null',
        '),',
        '',
        'parent as (',
        '    select "customer_id" as to_field',
        '    from "analytics"."customers"',
        ')',
        '',
        'select from_field',
        'from child',
        'left join parent',
        '    on child.from_field = parent.to_field',
        'where parent.to_field is null',
      ].join('\n'),
    );
    expect(test.name).toBe('relationships_orders_customer_id__customer_id__ref_customers_');
  });

  it('expression_is_true negates the expression, prefixed by the column when given', () => {
    expect(compile({ test: 'expression_is_true', args: { expression: 'amount = credit + debit' } }).sql).toBe(
      'select *\nfrom "analytics"."orders"\nwhere not(amount = credit + debit)',
    );
    expect(compile({ test: 'expression_is_true', column: 'amount', args: { expression: '>= 0' } }).sql).toBe(
      'select *\nfrom "analytics"."orders"\nwhere not("amount" >= 0)',
    );
  });

  it('unique_combination_of_columns groups by the quoted columns', () => {
    const test = compile({
      test: 'dbt_utils.unique_combination_of_columns',
      args: { combination_of_columns: ['customer_id', 'order_date'] },
    });
    expect(test.sql).toBe(
      [
        'with validation_errors as (',
        '    select',
        '        "customer_id", "order_date",',
        '        count(*) as n_records',
        '    from "analytics"."orders"',
        '    group by "customer_id", "order_date"',
        '    having count(*) > 1',
        ')',
        '',
        'select *',
        'from validation_errors',
      ].join('\n'),
    );
    expect(test.name).toBe('dbt_utils_unique_combination_of_columns_orders_customer_id__order_date');
    expect(test.keyColumns).toEqual(['customer_id', 'order_date']);
  });

  it('accepted_range is inclusive by default and exclusive on request', () => {
    expect(
      compile({ test: 'accepted_range', column: 'amount', args: { min_value: 0, max_value: 100 } }).sql,
    ).toBe('select *\nfrom "analytics"."orders"\nwhere not "amount" >= 0\n   or not "amount" <= 100');
    expect(
      compile({ test: 'accepted_range', column: 'amount', args: { min_value: 0, inclusive: false } }).sql,
    ).toBe('select *\nfrom "analytics"."orders"\nwhere not "amount" > 0');
    expect(
      compile({ test: 'accepted_range', column: 'order_date', args: { max_value: 'current_date' } }).sql,
    ).toBe('select *\nfrom "analytics"."orders"\nwhere not "order_date" <= current_date');
  });

  it('row_count returns the count when it is out of range', () => {
    expect(compile({ test: 'row_count', args: { min_value: 1, max_value: 1000 } }).sql).toBe(
      [
        'with counted as (',
        '    select count(*) as row_count',
        '    from "analytics"."orders"',
        ')',
        '',
        'select row_count',
        'from counted',
        'where row_count < 1 or row_count > 1000',
      ].join('\n'),
    );
  });

  it('freshness with both levels marks each stale row warn or error', () => {
    const test = compile({
      test: 'freshness',
      column: 'loaded_at',
      args: { warn_after: { count: 24, period: 'hour' }, error_after: { count: 2, period: 'day' } },
    });
    expect(test.sql).toBe(
      [
        'with freshness as (',
        '    select',
        '        max("loaded_at")::timestamptz as max_loaded_at,',
        '        current_timestamp as checked_at',
        '    from "analytics"."orders"',
        ')',
        '',
        'select',
        '    max_loaded_at,',
        '    checked_at,',
        '    floor(extract(epoch from checked_at - max_loaded_at))::bigint as age_seconds,',
        "    case when max_loaded_at is null or max_loaded_at < checked_at - interval '2 days' then 'error' else 'warn' end as freshness_status",
        'from freshness',
        "where max_loaded_at is null or max_loaded_at < checked_at - interval '24 hours'",
      ].join('\n'),
    );
    expect(test.statusColumn).toBe('freshness_status');
    expect(test.name).toBe('freshness_orders_loaded_at__2__day__24__hour');
  });

  it('freshness with one level uses a constant status', () => {
    const warnOnly = compile({
      test: 'freshness',
      column: 'at',
      args: { warn_after: { count: 30, period: 'minute' } },
    });
    expect(warnOnly.sql).toContain("    'warn' as freshness_status\n");
    expect(warnOnly.sql).toContain(
      "where max_loaded_at is null or max_loaded_at < checked_at - interval '30 minutes'",
    );
    const errorOnly = compile({
      test: 'freshness',
      column: 'at',
      args: { error_after: { count: 1, period: 'day' } },
    });
    expect(errorOnly.sql).toContain("    'error' as freshness_status\n");
  });
});

describe('config applied at compile time', () => {
  it('where wraps only the tested relation in dbt_subquery', () => {
    const test = compile({
      test: 'relationships',
      column: 'customer_id',
      args: { to: 'customers', field: 'id' },
      config: { where: "status <> 'returned'" },
    });
    expect(test.sql).toContain(
      `    from (select * from "analytics"."orders" where status <> 'returned') dbt_subquery\n    where "customer_id" is not null`,
    );
    expect(test.sql).toContain('    from "analytics"."customers"\n');
  });

  it('limit is appended on its own line', () => {
    const test = compile({ test: 'not_null', column: 'amount', args: {}, config: { limit: 5 } });
    expect(test.sql).toBe('select *\nfrom "analytics"."orders"\nwhere "amount" is null\nlimit 5');
  });

  it('severity, thresholds and name are kept; name overrides the synthesized one', () => {
    const test = compile({
      test: 'not_null',
      column: 'amount',
      args: {},
      config: { severity: 'warn', warnIf: '>10', name: 'amount_present' },
    });
    expect(test).toMatchObject({ name: 'amount_present', alias: 'amount_present', severity: 'warn' });
    expect(test.config).toMatchObject({ warnIf: '>10', errorIf: '!=0' });
  });
});

describe('config-like keys written among the args (dbt YAML)', () => {
  it('are taken as config, kept out of the name and of the test body; config block wins', () => {
    const test = compile({
      test: 'accepted_values',
      column: 'status',
      args: {
        values: ['a'],
        severity: 'warn',
        tags: ['x'],
        where: 'ignored = 1',
        config: { where: 'id > 0', error_if: '>5' },
      },
    });
    expect(test.name).toBe('accepted_values_orders_status__a');
    expect(test.severity).toBe('warn');
    expect(test.config).toMatchObject({ where: 'id > 0', errorIf: '>5' });
    expect(test.sql).toContain('(select * from "analytics"."orders" where id > 0) dbt_subquery');
  });

  it('name among the args replaces the synthesized name; invocation config beats args', () => {
    const test = compile({
      test: 'unique',
      column: 'id',
      args: { name: 'ids_unique', severity: 'warn' },
      config: { severity: 'error' },
    });
    expect(test).toMatchObject({ name: 'ids_unique', alias: 'ids_unique', severity: 'error' });
  });
});

describe('compile errors', () => {
  it('unknown test → UNKNOWN_TEST with the test name', () => {
    const error = compileError(() => compile({ test: 'is_even', column: 'id', args: {} }));
    expect(error.code).toBe('UNKNOWN_TEST');
    expect(error.test).toBe('is_even_orders_id');
  });

  it.each([
    ['not_null without column', { test: 'not_null', args: {} }],
    ['accepted_values without values', { test: 'accepted_values', column: 's', args: {} }],
    ['accepted_values with an empty list', { test: 'accepted_values', column: 's', args: { values: [] } }],
    ['relationships without field', { test: 'relationships', column: 'c', args: { to: 'customers' } }],
    ['accepted_range without bounds', { test: 'accepted_range', column: 'c', args: {} }],
    ['row_count with a fractional bound', { test: 'row_count', args: { min_value: 1.5 } }],
    [
      'freshness with an unknown period',
      { test: 'freshness', column: 'c', args: { warn_after: { count: 1, period: 'week' } } },
    ],
    ['unique_combination_of_columns with no columns', { test: 'unique_combination_of_columns', args: {} }],
    ['a column name with a NUL', { test: 'not_null', column: 'a\0b', args: {} }],
  ])('%s → INVALID_ARGUMENT', (_label, inv) => {
    expect(compileError(() => compile(inv)).code).toBe('INVALID_ARGUMENT');
  });

  it('a bad threshold → INVALID_THRESHOLD', () => {
    const error = compileError(() =>
      compile({ test: 'unique', column: 'id', args: {}, config: { warnIf: 'lots' } }),
    );
    expect(error.code).toBe('INVALID_THRESHOLD');
  });
});

describe('registry', () => {
  it('compiles custom TypeScript generic tests with the resolver and where applied', () => {
    const registry = createTestRegistry();
    registry.define(
      'is_even',
      ({ relation, column }) => `select * from ${relation} where ${column} % 2 <> 0`,
      { keyColumns: ['id'] },
    );
    expect(registry.has('is_even')).toBe(true);
    const test = compileGenericTest(
      { test: 'is_even', model: 'orders', column: 'id', args: {}, config: { where: 'id > 10' } },
      ctx,
      registry,
    );
    expect(test.sql).toBe(
      'select * from (select * from "analytics"."orders" where id > 10) dbt_subquery where id % 2 <> 0',
    );
    expect(test.keyColumns).toEqual(['id']);
    expect(test.name).toBe('is_even_orders_id');
  });

  it('knows dbt_utils aliases, rejects duplicates and non-identifier names', () => {
    const registry = createTestRegistry();
    expect(registry.has('dbt_utils.expression_is_true')).toBe(true);
    expect(registry.has('dbt_utils.nope')).toBe(false);
    registry.define('my_pkg.positive', ({ relation }) => `select * from ${relation} where x <= 0`);
    expect(compileError(() => registry.define('my_pkg.positive', () => 'select 1')).code).toBe(
      'DUPLICATE_TEST',
    );
    expect(compileError(() => registry.define('drop table', () => 'select 1')).code).toBe('INVALID_ARGUMENT');
    expect(registry.names()).toContain('my_pkg.positive');
  });

  it('a built-in can be overridden (like a project macro test_not_null)', () => {
    const registry = createTestRegistry();
    registry.define(
      'not_null',
      ({ relation, column }) => `select ${column} from ${relation} where ${column} is null`,
    );
    expect(
      compileGenericTest({ test: 'not_null', model: 'orders', column: 'x', args: {} }, ctx, registry).sql,
    ).toBe('select x from "analytics"."orders" where x is null');
  });

  it('an exception inside a custom test becomes INVALID_ARGUMENT with the cause', () => {
    const registry = createTestRegistry();
    const boom = new Error('boom');
    registry.define('broken', () => {
      throw boom;
    });
    const error = compileError(() =>
      compileGenericTest({ test: 'broken', model: 'm', args: {} }, ctx, registry),
    );
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.cause).toBe(boom);
  });
});

describe('singular tests', () => {
  it('strips trailing semicolons and keeps config', () => {
    const test = compileSingularTest({
      name: 'assert_positive_total',
      sql: 'select order_id from orders where amount < 0;\n',
      config: { severity: 'warn', limit: 3 },
      model: 'orders',
    });
    expect(test).toMatchObject({
      name: 'assert_positive_total',
      test: 'singular',
      severity: 'warn',
      model: 'orders',
      sql: 'select order_id from orders where amount < 0\nlimit 3',
    });
  });

  it('rejects empty SQL', () => {
    expect(compileError(() => compileSingularTest({ name: 'x', sql: ' ;\n' })).code).toBe('INVALID_ARGUMENT');
  });
});

describe('config set by the test body (dbt: config() in a test macro)', () => {
  const registry = createTestRegistry();
  registry.define('rows_differ', ({ relation, configure }) => {
    configure?.({ fail_calc: 'sum(diff)', severity: 'warn', warn_if: '>1', limit: 7 });
    return `select 1 as diff from ${relation}`;
  });
  registry.define('filtered_by_macro', ({ relation, configure }) => {
    configure?.({ where: 'amount > 0' });
    return `select * from ${relation}`;
  });
  registry.define('needs_warehouse', ({ configure }) => {
    configure?.({ fail_calc: 'count(*) * 2' });
    return '  \n';
  });

  it('applies the macro config below the project config and the YAML test config', () => {
    const byMacro = compileGenericTest({ test: 'rows_differ', model: 'orders', args: {} }, ctx, registry);
    expect(byMacro.config).toMatchObject({ failCalc: 'sum(diff)', severity: 'warn', warnIf: '>1', limit: 7 });
    expect(byMacro.severity).toBe('warn');
    expect(byMacro.sql).toBe('select 1 as diff from "analytics"."orders"\nlimit 7');
    const layered = compileGenericTest(
      { test: 'rows_differ', model: 'orders', args: { severity: 'error' }, config: { warnIf: '>5' } },
      ctx,
      registry,
      { projectConfig: { severity: 'warn', warnIf: '>3', limit: 2 } },
    );
    // args-level severity beats the project's, config: warn_if beats both, project limit beats the macro's.
    expect(layered.config).toMatchObject({
      failCalc: 'sum(diff)',
      severity: 'error',
      warnIf: '>5',
      limit: 2,
    });
    expect(layered.sql).toBe('select 1 as diff from "analytics"."orders"\nlimit 2');
  });

  it('wraps the relation with a where the macro set itself, unless the YAML sets one', () => {
    const own = compileGenericTest({ test: 'filtered_by_macro', model: 'orders', args: {} }, ctx, registry);
    expect(own.sql).toBe('select * from (select * from "analytics"."orders" where amount > 0) dbt_subquery');
    const yaml = compileGenericTest(
      { test: 'filtered_by_macro', model: 'orders', args: {}, config: { where: 'id = 1' } },
      ctx,
      registry,
    );
    expect(yaml.sql).toBe('select * from (select * from "analytics"."orders" where id = 1) dbt_subquery');
  });

  it('keeps a body that rendered nothing as pending when asked, with the macro config, and refuses it otherwise', () => {
    const inv = { test: 'needs_warehouse', model: 'orders', args: {} };
    const pending = compileGenericTest(inv, ctx, registry, { whenEmpty: 'pending' });
    expect(pending).toMatchObject({ name: 'needs_warehouse_orders_', sql: '', pending: true });
    expect(pending.config.failCalc).toBe('count(*) * 2');
    expect(JSON.parse(JSON.stringify(pending))).toEqual(pending);
    const error = compileError(() => compileGenericTest(inv, ctx, registry));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toBe('needs_warehouse_orders_: generic test needs_warehouse rendered no SQL');
  });
});
