-- One row per day: orders, customers and revenue converted to USD with that day's rate.
-- Returned orders count as refunds, not revenue.
select
  o.order_date,
  count(*) as orders,
  count(distinct o.customer_id) as customers,
  sum(o.amount * r.rate_to_usd) filter (where o.status not in ('returned', 'return_pending')) as revenue_usd,
  coalesce(sum(o.amount * r.rate_to_usd) filter (where o.status in ('returned', 'return_pending')), 0) as refunds_usd,
  count(*) filter (where r.rate_to_usd is null) as orders_without_rate
from {{ ref('fct_orders') }} as o
left join {{ ref('stg_rates') }} as r on r.rate_date = o.order_date and r.currency = o.currency
group by o.order_date
