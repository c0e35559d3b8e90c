-- Customer history (SCD type 2): the daily export overwrites names, emails and countries; this
-- keeps every version with dbt_valid_from / dbt_valid_to. Runs with `dataflow build` / `snapshot`.
{% snapshot customers_snapshot %}
{{ config(strategy='check', unique_key='customer_id', check_cols=['first_name', 'last_name', 'email', 'country']) }}
select
  cast(customer_id as bigint) as customer_id,
  first_name,
  last_name,
  lower(email) as email,
  country
from {{ source('raw', 'customers') }}
{% endsnapshot %}
