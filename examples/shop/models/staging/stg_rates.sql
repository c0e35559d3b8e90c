-- One row per (day, currency): how many USD one unit of the currency buys.
select
  cast(day as date) as rate_date,
  currency,
  cast(rate_to_usd as numeric(18, 8)) as rate_to_usd
from {{ source('raw', 'rates') }}
