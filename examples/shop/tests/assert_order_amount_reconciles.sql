-- Singular test (rows returned are failures): every order in fct_orders is paid in full by the
-- payments in staging, so nothing was lost or double counted between the layers.
with paid as (
  select order_id, sum(amount) as paid_amount
  from {{ ref('stg_payments') }}
  group by order_id
)
select o.order_id, o.amount, coalesce(p.paid_amount, 0) as paid_amount
from {{ ref('fct_orders') }} as o
left join paid as p on p.order_id = o.order_id
where o.amount <> coalesce(p.paid_amount, 0)
