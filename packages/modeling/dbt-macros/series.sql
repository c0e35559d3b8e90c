{#- dbt's generate_series, get_intervals_between and date_spine. -#}

{% macro get_powers_of_two(upper_bound) -%}
  {{ return(adapter.dispatch('get_powers_of_two', 'dbt')(upper_bound)) }}
{%- endmacro %}

{#- The smallest n with 2 ** n >= upper_bound (at least 1). -#}
{% macro default__get_powers_of_two(upper_bound) -%}
{%- if upper_bound <= 0 -%}
{{ exceptions.raise_compiler_error("upper bound must be positive") }}
{%- endif -%}
{%- for n in range(1, 100) -%}
{%- if upper_bound <= 2 ** n -%}{{ return(n) }}{%- endif -%}
{%- endfor -%}
{%- endmacro %}

{% macro generate_series(upper_bound) -%}
  {{ return(adapter.dispatch('generate_series', 'dbt')(upper_bound)) }}
{%- endmacro %}

{#- Numbers 1..upper_bound from a cross join of n two-row tables (no series function needed). -#}
{% macro default__generate_series(upper_bound) -%}
{%- set n = dbt.get_powers_of_two(upper_bound) -%}
with p as (
    select 0 as generated_number union all select 1
), unioned as (
    select {% for i in range(n) %}p{{ i }}.generated_number * power(2, {{ i }}) + {% endfor %}1 as generated_number
    from {% for i in range(n) %}p as p{{ i }}{{ ' cross join ' if not loop.last }}{% endfor %}
)
select * from unioned
where generated_number <= {{ upper_bound }}
order by generated_number
{%- endmacro %}

{% macro postgres__generate_series(upper_bound) -%}
select generate_series(1, {{ upper_bound }}) as generated_number
{%- endmacro %}

{% macro get_intervals_between(start_date, end_date, datepart) -%}
  {{ return(adapter.dispatch('get_intervals_between', 'dbt')(start_date, end_date, datepart)) }}
{%- endmacro %}

{#- Asks the warehouse when it can (execute, with run_query); while parsing, 1 as dbt answers. -#}
{% macro default__get_intervals_between(start_date, end_date, datepart) -%}
{%- if execute and run_query is defined -%}
{%- set result = run_query('select ' ~ dbt.datediff(start_date, end_date, datepart)) -%}
{%- if result and result.rows | length > 0 -%}
{{ return(result.rows[0][0]) }}
{%- endif -%}
{%- endif -%}
{{ return(1) }}
{%- endmacro %}

{% macro date_spine(datepart, start_date, end_date) -%}
  {{ return(adapter.dispatch('date_spine', 'dbt')(datepart, start_date, end_date)) }}
{%- endmacro %}

{#- One row per datepart from start_date up to, not including, end_date. -#}
{% macro default__date_spine(datepart, start_date, end_date) -%}
with rawdata as (
    {{ dbt.generate_series(dbt.get_intervals_between(start_date, end_date, datepart)) }}
),
all_periods as (
    select ({{ dbt.dateadd(datepart, 'row_number() over (order by 1) - 1', start_date) }}) as date_{{ datepart }}
    from rawdata
),
filtered as (
    select * from all_periods
    where date_{{ datepart }} <= {{ end_date }}
)
select * from filtered
{%- endmacro %}

{#- PostgreSQL counts the periods in SQL, so the spine needs no query at compile time. -#}
{% macro postgres__date_spine(datepart, start_date, end_date) -%}
with rawdata as (
    select generate_series(0, ({{ dbt.datediff(start_date, end_date, datepart) }})::int - 1) as period_number
),
all_periods as (
    select ({{ dbt.dateadd(datepart, 'period_number', start_date) }}) as date_{{ datepart }}
    from rawdata
),
filtered as (
    select * from all_periods
    where date_{{ datepart }} <= {{ end_date }}
)
select * from filtered
{%- endmacro %}
