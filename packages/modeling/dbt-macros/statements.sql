{#- dbt's statement / run_query: while parsing (execute false) they run nothing and results are
    None, as in dbt; with execute true they need adapter.execute from the compiler. -#}

{% macro statement(name=None, fetch_result=False, auto_begin=True, language='sql') -%}
{%- if execute -%}
  {%- set compiled_code = caller() -%}
  {%- if adapter.execute is not defined -%}
    {{ exceptions.raise_compiler_error("statement '" ~ name ~ "' needs a warehouse connection (adapter.execute)") }}
  {%- endif -%}
  {%- set response, table = adapter.execute(compiled_code, auto_begin=auto_begin, fetch=fetch_result) -%}
  {%- if name is not none -%}
    {{ store_result(name, response=response, agate_table=table) }}
  {%- endif -%}
{%- endif -%}
{%- endmacro %}

{% macro noop_statement(name=None, message=None, code=None, rows_affected=None, res=None) -%}
{%- set sql = caller() -%}
{%- if name is not none -%}
  {{ store_raw_result(name, message=message, code=code, rows_affected=rows_affected, agate_table=res) }}
{%- endif -%}
{%- endmacro %}

{% macro run_query(sql) -%}
{%- call statement('run_query_statement', fetch_result=true, auto_begin=false) -%}
{{ sql }}
{%- endcall -%}
{%- set result = load_result('run_query_statement') -%}
{{ return(result.table if result is not none else none) }}
{%- endmacro %}
