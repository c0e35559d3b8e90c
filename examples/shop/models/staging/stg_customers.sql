-- One row per customer in the latest snapshot, typed.
select
  cast(customer_id as bigint) as customer_id,
  first_name,
  last_name,
  lower(email) as email,
  country,
  cast(created_at as timestamptz) as created_at,
  _loaded_at
from {{ source('raw', 'customers') }}
