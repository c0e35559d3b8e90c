{{ config(materialized='incremental', unique_key='order_id') }}
{% set methods = ['credit_card', 'paypal', 'bank_transfer', 'gift_card', 'coupon'] %}
{% set lookback = var('incremental_lookback', '3 hours') %}
-- One row per order with its payments pivoted by method.
-- Incremental: a build merges only the orders whose order or payment rows were loaded since the
-- last build, so a re-loaded day is re-merged (never duplicated) and a backfilled old day is
-- picked up too. The lookback re-merges recently loaded rows as well: _loaded_at is the load
-- transaction's start, so a load that overlapped the previous build (parallel DAG runs) can
-- commit rows older than that build's high-water mark.
with
{% if is_incremental() %}
high_water as (
  select coalesce(max(_loaded_at), '-infinity') - interval '{{ lookback }}' as loaded_after
  from {{ this }}
),
changed as (
  select order_id from {{ ref('stg_orders') }} where _loaded_at > (select loaded_after from high_water)
  union
  select order_id from {{ ref('stg_payments') }} where _loaded_at > (select loaded_after from high_water)
),
{% endif %}
payments as (
  select
    order_id,
    {% for method in methods %}
    sum(case when payment_method = '{{ method }}' then amount else 0 end) as {{ method }}_amount,
    {% endfor %}
    sum(amount) as paid_amount,
    count(*) as payment_count,
    max(_loaded_at) as _loaded_at
  from {{ ref('stg_payments') }}
  {% if is_incremental() %}
  where order_id in (select order_id from changed)
  {% endif %}
  group by order_id
)
select
  o.order_id,
  o.customer_id,
  o.order_date,
  o.ordered_at,
  o.status,
  o.currency,
  o.amount,
  {% for method in methods %}
  coalesce(p.{{ method }}_amount, 0) as {{ method }}_amount,
  {% endfor %}
  coalesce(p.paid_amount, 0) as paid_amount,
  coalesce(p.payment_count, 0) as payment_count,
  greatest(o._loaded_at, p._loaded_at) as _loaded_at
from {{ ref('stg_orders') }} as o
left join payments as p on p.order_id = o.order_id
{% if is_incremental() %}
where o.order_id in (select order_id from changed)
{% endif %}
