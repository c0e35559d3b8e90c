/**
 * jaffle_shop, written with the TypeScript API: the twin of `../jaffle_shop` (dbt-style).
 * Seeds are the same CSV files; models and the 20 tests are the same.
 */
import { fileURLToPath } from 'node:url';
import { defineModel, defineProject, sql, type TestSpec } from '@dataflow/modeling';

const seed = (name: string) => ({
  name,
  file: fileURLToPath(new URL(`../jaffle_shop/seeds/${name}.csv`, import.meta.url)),
});

const uniqueNotNull: TestSpec[] = ['unique', 'not_null'];
const statuses = ['placed', 'shipped', 'completed', 'return_pending', 'returned'];
const paymentMethods = ['credit_card', 'coupon', 'bank_transfer', 'gift_card'] as const;

export const stgCustomers = defineModel({
  name: 'stg_customers',
  path: 'models/staging/stg_customers.ts',
  materialized: 'view',
  refs: ['raw_customers'],
  columns: { customer_id: { tests: uniqueNotNull } },
  sql: ({ ref }) => sql`
with source as (
    select * from ${ref('raw_customers')}
),
renamed as (
    select
        id as customer_id,
        first_name,
        last_name
    from source
)
select * from renamed`,
});

export const stgOrders = defineModel({
  name: 'stg_orders',
  path: 'models/staging/stg_orders.ts',
  materialized: 'view',
  refs: ['raw_orders'],
  columns: {
    order_id: { tests: uniqueNotNull },
    status: { tests: [{ accepted_values: { values: statuses } }] },
  },
  sql: ({ ref }) => sql`
with source as (
    select * from ${ref('raw_orders')}
),
renamed as (
    select
        id as order_id,
        user_id as customer_id,
        order_date,
        status
    from source
)
select * from renamed`,
});

export const stgPayments = defineModel({
  name: 'stg_payments',
  path: 'models/staging/stg_payments.ts',
  materialized: 'view',
  refs: ['raw_payments'],
  columns: {
    payment_id: { tests: uniqueNotNull },
    payment_method: { tests: [{ accepted_values: { values: [...paymentMethods] } }] },
  },
  sql: ({ ref }) => sql`
with source as (
    select * from ${ref('raw_payments')}
),
renamed as (
    select
        id as payment_id,
        order_id,
        payment_method,
        -- amount is stored in cents; convert it to dollars
        amount / 100 as amount
    from source
)
select * from renamed`,
});

export const orders = defineModel({
  name: 'orders',
  path: 'models/orders.ts',
  materialized: 'table',
  refs: ['stg_orders', 'stg_payments'],
  columns: {
    order_id: { tests: uniqueNotNull },
    customer_id: { tests: ['not_null', { relationships: { to: "ref('customers')", field: 'customer_id' } }] },
    status: { tests: [{ accepted_values: { values: statuses } }] },
    amount: { tests: ['not_null'] },
    ...Object.fromEntries(paymentMethods.map((m) => [`${m}_amount`, { tests: ['not_null'] }])),
  },
  sql: ({ ref }) => {
    const perMethod = sql.join(
      paymentMethods.map(
        (m) =>
          sql`sum(case when payment_method = ${m} then amount else 0 end) as ${sql.ident(`${m}_amount`)}`,
      ),
      ',\n        ',
    );
    const methodColumns = sql.join(
      paymentMethods.map((m) => sql`order_payments.${sql.ident(`${m}_amount`)}`),
      ',\n        ',
    );
    return sql`
with orders as (
    select * from ${ref('stg_orders')}
),
payments as (
    select * from ${ref('stg_payments')}
),
order_payments as (
    select
        order_id,
        ${perMethod},
        sum(amount) as total_amount
    from payments
    group by order_id
),
final as (
    select
        orders.order_id,
        orders.customer_id,
        orders.order_date,
        orders.status,
        ${methodColumns},
        order_payments.total_amount as amount
    from orders
    left join order_payments
        on orders.order_id = order_payments.order_id
)
select * from final`;
  },
});

export const customers = defineModel({
  name: 'customers',
  path: 'models/customers.ts',
  materialized: 'table',
  refs: ['stg_customers', 'stg_orders', 'stg_payments'],
  columns: { customer_id: { tests: uniqueNotNull } },
  sql: ({ ref }) => sql`
with customers as (
    select * from ${ref('stg_customers')}
),
orders as (
    select * from ${ref('stg_orders')}
),
payments as (
    select * from ${ref('stg_payments')}
),
customer_orders as (
    select
        customer_id,
        min(order_date) as first_order,
        max(order_date) as most_recent_order,
        count(order_id) as number_of_orders
    from orders
    group by customer_id
),
customer_payments as (
    select
        orders.customer_id,
        sum(amount) as total_amount
    from payments
    left join orders on payments.order_id = orders.order_id
    group by orders.customer_id
),
final as (
    select
        customers.customer_id,
        customers.first_name,
        customers.last_name,
        customer_orders.first_order,
        customer_orders.most_recent_order,
        customer_orders.number_of_orders,
        customer_payments.total_amount as customer_lifetime_value
    from customers
    left join customer_orders on customers.customer_id = customer_orders.customer_id
    left join customer_payments on customers.customer_id = customer_payments.customer_id
)
select * from final`,
});

/** The project: 3 seeds, 5 models, 20 tests (28 nodes). */
export const jaffleShop = defineProject({
  name: 'jaffle_shop_ts',
  models: [stgCustomers, stgOrders, stgPayments, orders, customers],
  seeds: [seed('raw_customers'), seed('raw_orders'), seed('raw_payments')],
});
