-- One row per payment, typed.
select
  cast(payment_id as bigint) as payment_id,
  cast(order_id as bigint) as order_id,
  method as payment_method,
  cast(amount as numeric(12, 2)) as amount,
  cast(paid_at as timestamptz) as paid_at,
  _loaded_at
from {{ source('raw', 'payments') }}
