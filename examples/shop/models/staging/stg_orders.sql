-- One row per order, typed; order_date is the UTC calendar day of the order.
select
  cast(order_id as bigint) as order_id,
  cast(customer_id as bigint) as customer_id,
  cast(ordered_at as timestamptz) as ordered_at,
  cast((cast(ordered_at as timestamptz) at time zone 'UTC') as date) as order_date,
  status,
  currency,
  cast(amount as numeric(12, 2)) as amount,
  _loaded_at
from {{ source('raw', 'orders') }}
