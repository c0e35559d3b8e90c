-- SCD type 2 history of customers: raw_customers is upserted daily (merge on customer_id), so it
-- only ever holds the latest version of a customer; this snapshot keeps every version. The export
-- has no reliable updated_at column, so the `check` strategy compares the columns below: when one
-- changes, the current row gets a dbt_valid_to and a new current row is inserted.
{% snapshot customers_snapshot %}
{{ config(
    strategy='check',
    unique_key='customer_id',
    check_cols=['first_name', 'last_name', 'email', 'country'],
) }}
select customer_id, first_name, last_name, email, country
from {{ ref('stg_customers') }}
{% endsnapshot %}
