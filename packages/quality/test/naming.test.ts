import { describe, expect, it } from 'vitest';
import { defaultTestAlias, defaultTestName, type GenericTestInvocation } from '../src/index.js';

const JAFFLE_STATUSES = ['placed', 'shipped', 'completed', 'return_pending', 'returned'];

describe('dbt test names', () => {
  it.each<[GenericTestInvocation, string]>([
    [{ test: 'not_null', model: 'orders', column: 'amount', args: {} }, 'not_null_orders_amount'],
    [{ test: 'unique', model: 'orders', column: 'order_id', args: {} }, 'unique_orders_order_id'],
    [
      { test: 'accepted_values', model: 'orders', column: 'status', args: { values: JAFFLE_STATUSES } },
      'accepted_values_orders_status__placed__shipped__completed__return_pending__returned',
    ],
    [
      {
        test: 'relationships',
        model: 'orders',
        column: 'customer_id',
        args: { to: "ref('customers')", field: 'customer_id' },
      },
      'relationships_orders_customer_id__customer_id__ref_customers_',
    ],
    // Namespaced tests keep the package; source tests get `source_`; a test with no args keeps the trailing `_`.
    [
      { test: 'dbt_utils.expression_is_true', model: 'orders', args: { expression: 'amount >= 0' } },
      'dbt_utils_expression_is_true_orders_amount_0',
    ],
    [
      { test: 'not_null', model: 'raw_orders', column: 'id', args: {}, targetType: 'source' },
      'source_not_null_raw_orders_id',
    ],
    [{ test: 'row_count', model: 'orders', args: {} }, 'row_count_orders_'],
    // Python's str(): booleans are True/False, column_name taken from args when no column.
    [
      { test: 'accepted_values', model: 'm', args: { column_name: 'flag', values: [1, 2], quote: false } },
      'accepted_values_m_flag__False__1__2',
    ],
  ])('%j → %s', (inv, name) => {
    expect(defaultTestName(inv)).toBe(name);
  });

  it('alias is the full name up to 63 characters', () => {
    const inv = {
      test: 'relationships',
      model: 'orders',
      column: 'customer_id',
      args: { to: "ref('customers')", field: 'customer_id' },
    };
    expect(defaultTestName(inv)).toHaveLength(61);
    expect(defaultTestAlias(inv)).toBe(defaultTestName(inv));
  });

  it('alias of a long name is the first 30 characters of <test>_<model> plus md5 (matches dbt manifest)', () => {
    // jaffle_shop's manifest: accepted_values_orders_status__placed__... has alias accepted_values_orders_1ce6ab157c285f7cd2ac656013faf758
    const inv = {
      test: 'accepted_values',
      model: 'orders',
      column: 'status',
      args: { values: JAFFLE_STATUSES },
    };
    expect(defaultTestAlias(inv)).toBe('accepted_values_orders_1ce6ab157c285f7cd2ac656013faf758');
    const long = {
      test: 'unique_combination_of_columns',
      model: 'a_very_long_model_name_for_naming',
      args: { combination_of_columns: ['a', 'b'] },
    };
    expect(defaultTestAlias(long)).toMatch(/^unique_combination_of_columns__[0-9a-f]{32}$/);
    expect(defaultTestAlias(long).length).toBeLessThanOrEqual(63);
  });
});
