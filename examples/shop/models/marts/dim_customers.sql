-- One row per customer with their order history (NULLs for customers without orders).
with order_stats as (
  select
    customer_id,
    min(order_date) as first_order_date,
    max(order_date) as most_recent_order_date,
    count(*) as number_of_orders,
    sum(amount) filter (where status not in ('returned', 'return_pending')) as lifetime_value
  from {{ ref('fct_orders') }}
  group by customer_id
)
select
  c.customer_id,
  c.first_name,
  c.last_name,
  c.email,
  c.country,
  c.created_at,
  s.first_order_date,
  s.most_recent_order_date,
  s.number_of_orders,
  s.lifetime_value
from {{ ref('stg_customers') }} as c
left join order_stats as s on s.customer_id = c.customer_id
