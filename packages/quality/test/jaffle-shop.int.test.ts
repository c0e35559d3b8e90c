import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { useTestDatabase } from '@dataflow/testkit';
import { from as copyFrom } from 'pg-copy-streams';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CompiledTest,
  compileGenericTest,
  type GenericTestInvocation,
  type RelationResolver,
  runTests,
  summarize,
} from '../src/index.js';

const FIXTURES = '/work/shared/fixtures/jaffle_shop';
const db = useTestDatabase();

const SEEDS = {
  raw_customers: 'id integer, first_name text, last_name text',
  raw_orders: 'id integer, user_id integer, order_date date, status text',
  raw_payments: 'id integer, order_id integer, payment_method text, amount integer',
} as const;

// jaffle_shop @ b0b77aa models, as plain SQL (DESCRIPTION.txt).
const STAGING = `
  create view stg_customers as select id as customer_id, first_name, last_name from raw_customers;
  create view stg_orders as select id as order_id, user_id as customer_id, order_date, status from raw_orders;
  create view stg_payments as select id as payment_id, order_id, payment_method, amount / 100 as amount from raw_payments;
`;
const MARTS = `
  drop table if exists customers, orders;
  create table customers as
  with customer_orders as (
    select customer_id, min(order_date) as first_order, max(order_date) as most_recent_order,
           count(order_id) as number_of_orders
    from stg_orders group by customer_id
  ),
  customer_payments as (
    select o.customer_id, sum(p.amount) as total_amount
    from stg_payments p left join stg_orders o on p.order_id = o.order_id
    group by o.customer_id
  )
  select c.customer_id, c.first_name, c.last_name, co.first_order, co.most_recent_order, co.number_of_orders,
         cp.total_amount as customer_lifetime_value
  from stg_customers c
  left join customer_orders co on c.customer_id = co.customer_id
  left join customer_payments cp on c.customer_id = cp.customer_id;

  create table orders as
  with order_payments as (
    select order_id,
      sum(case when payment_method = 'credit_card' then amount else 0 end) as credit_card_amount,
      sum(case when payment_method = 'coupon' then amount else 0 end) as coupon_amount,
      sum(case when payment_method = 'bank_transfer' then amount else 0 end) as bank_transfer_amount,
      sum(case when payment_method = 'gift_card' then amount else 0 end) as gift_card_amount,
      sum(amount) as total_amount
    from stg_payments group by order_id
  )
  select o.order_id, o.customer_id, o.order_date, o.status, op.credit_card_amount, op.coupon_amount,
         op.bank_transfer_amount, op.gift_card_amount, op.total_amount as amount
  from stg_orders o left join order_payments op on o.order_id = op.order_id;
`;

async function loadSeed(table: keyof typeof SEEDS): Promise<void> {
  const client = await db.pool.connect();
  try {
    await client.query(`create table ${table} (${SEEDS[table]})`);
    await pipeline(
      createReadStream(join(FIXTURES, `${table}.csv`)),
      client.query(copyFrom(`copy ${table} from stdin with (format csv, header true)`)),
    );
  } finally {
    client.release();
  }
}

const STATUSES = ['placed', 'shipped', 'completed', 'return_pending', 'returned'];
const METHODS = ['credit_card', 'coupon', 'bank_transfer', 'gift_card'];

// The 20 tests of models/staging/schema.yml and models/schema.yml.
const INVOCATIONS: GenericTestInvocation[] = [
  { test: 'unique', model: 'stg_customers', column: 'customer_id', args: {} },
  { test: 'not_null', model: 'stg_customers', column: 'customer_id', args: {} },
  { test: 'unique', model: 'stg_orders', column: 'order_id', args: {} },
  { test: 'not_null', model: 'stg_orders', column: 'order_id', args: {} },
  { test: 'accepted_values', model: 'stg_orders', column: 'status', args: { values: STATUSES } },
  { test: 'unique', model: 'stg_payments', column: 'payment_id', args: {} },
  { test: 'not_null', model: 'stg_payments', column: 'payment_id', args: {} },
  { test: 'accepted_values', model: 'stg_payments', column: 'payment_method', args: { values: METHODS } },
  { test: 'unique', model: 'customers', column: 'customer_id', args: {} },
  { test: 'not_null', model: 'customers', column: 'customer_id', args: {} },
  { test: 'unique', model: 'orders', column: 'order_id', args: {} },
  { test: 'not_null', model: 'orders', column: 'order_id', args: {} },
  { test: 'not_null', model: 'orders', column: 'customer_id', args: {} },
  {
    test: 'relationships',
    model: 'orders',
    column: 'customer_id',
    args: { to: "ref('customers')", field: 'customer_id' },
  },
  { test: 'accepted_values', model: 'orders', column: 'status', args: { values: STATUSES } },
  ...['amount', 'credit_card_amount', 'coupon_amount', 'bank_transfer_amount', 'gift_card_amount'].map(
    (column): GenericTestInvocation => ({ test: 'not_null', model: 'orders', column, args: {} }),
  ),
];

function compileAll(): CompiledTest[] {
  const ref = (name: string) => `"${db.schema}"."${name}"`;
  return INVOCATIONS.map((inv) => {
    const ctx: RelationResolver = {
      relation: ref(inv.model),
      resolve: (arg) => ref(/^ref\('([^']+)'\)$/.exec(arg)?.[1] ?? arg),
    };
    return compileGenericTest(inv, ctx);
  });
}

beforeAll(async () => {
  await Promise.all((Object.keys(SEEDS) as Array<keyof typeof SEEDS>).map(loadSeed));
  await db.pool.query(STAGING);
  await db.pool.query(MARTS);
});

describe('jaffle_shop', () => {
  it('builds the documented models', async () => {
    const { rows } = await db.pool.query(
      `select (select count(*)::int from orders) as orders, (select sum(amount)::int from orders) as amount,
              (select count(*)::int from customers) as customers,
              (select count(customer_lifetime_value)::int from customers) as with_value`,
    );
    expect(rows[0]).toEqual({ orders: 99, amount: 1672, customers: 100, with_value: 62 });
  });

  it('has dbt names for its 20 tests and all of them pass', async () => {
    const tests = compileAll();
    expect(tests.map((t) => t.name)).toEqual([
      'unique_stg_customers_customer_id',
      'not_null_stg_customers_customer_id',
      'unique_stg_orders_order_id',
      'not_null_stg_orders_order_id',
      'accepted_values_stg_orders_status__placed__shipped__completed__return_pending__returned',
      'unique_stg_payments_payment_id',
      'not_null_stg_payments_payment_id',
      'accepted_values_stg_payments_payment_method__credit_card__coupon__bank_transfer__gift_card',
      'unique_customers_customer_id',
      'not_null_customers_customer_id',
      'unique_orders_order_id',
      'not_null_orders_order_id',
      'not_null_orders_customer_id',
      'relationships_orders_customer_id__customer_id__ref_customers_',
      'accepted_values_orders_status__placed__shipped__completed__return_pending__returned',
      'not_null_orders_amount',
      'not_null_orders_credit_card_amount',
      'not_null_orders_coupon_amount',
      'not_null_orders_bank_transfer_amount',
      'not_null_orders_gift_card_amount',
    ]);
    expect(tests.find((t) => t.test === 'accepted_values' && t.model === 'orders')?.alias).toBe(
      'accepted_values_orders_1ce6ab157c285f7cd2ac656013faf758',
    );
    const results = await runTests(db.pool, tests, { concurrency: 4 });
    expect(results.filter((r) => r.status !== 'pass')).toEqual([]);
    expect(summarize(results)).toEqual({ pass: 20, warn: 0, fail: 0, error: 0, total: 20, hasErrors: false });
  });

  it('altering one seed row makes exactly the matching test fail', async () => {
    await db.pool.query(`update raw_payments set payment_method = 'bitcoin' where id = 7`);
    await db.pool.query(MARTS);
    const results = await runTests(db.pool, compileAll(), { concurrency: 4 });
    const failing = results.filter((r) => r.status !== 'pass');
    expect(failing.map((r) => [r.name, r.status, r.failures])).toEqual([
      [
        'accepted_values_stg_payments_payment_method__credit_card__coupon__bank_transfer__gift_card',
        'fail',
        1,
      ],
    ]);
    expect(failing[0]?.sample).toEqual([{ value_field: 'bitcoin', n_records: '1' }]);
    expect(summarize(results)).toMatchObject({ pass: 19, fail: 1, hasErrors: true });
  });
});
