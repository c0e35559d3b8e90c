{#- dbt's relation and materialization helpers that packages call from their own macros:
    config questions (store_failures, full_refresh) and DDL run through `statement`, so they
    do nothing while parsing (execute false) and run on the build's connection with execute true. -#}

{% macro should_store_failures() -%}
{%- set configured = config.get('store_failures') -%}
{{ return(flags.STORE_FAILURES if configured is none else configured) }}
{%- endmacro %}

{% macro should_full_refresh() -%}
{%- set configured = config.get('full_refresh') -%}
{{ return(flags.FULL_REFRESH if configured is none else configured) }}
{%- endmacro %}

{% macro make_temp_relation(base_relation, suffix='__dbt_tmp') -%}
{{ return(adapter.dispatch('make_temp_relation', 'dbt')(base_relation, suffix)) }}
{%- endmacro %}

{% macro default__make_temp_relation(base_relation, suffix) -%}
{{ return(base_relation.incorporate(path={'identifier': base_relation.identifier ~ suffix})) }}
{%- endmacro %}

{% macro load_relation(relation) -%}
{{ return(adapter.get_relation(database=relation.database, schema=relation.schema, identifier=relation.identifier)) }}
{%- endmacro %}

{% macro get_or_create_relation(database, schema, identifier, type) -%}
{%- set found = adapter.get_relation(database=database, schema=schema, identifier=identifier) -%}
{%- if found -%}
  {{ return([true, found]) }}
{%- endif -%}
{{ return([false, api.Relation.create(database=database, schema=schema, identifier=identifier, type=type)]) }}
{%- endmacro %}

{% macro drop_relation_if_exists(relation) -%}
{%- if relation is not none -%}
  {%- call statement('drop_relation', auto_begin=false) -%}
    drop {{ 'view' if relation.type == 'view' else 'table' }} if exists {{ relation }} cascade
  {%- endcall -%}
{%- endif -%}
{%- endmacro %}

{% macro truncate_relation(relation) -%}
{%- call statement('truncate_relation') -%}
  truncate table {{ relation }}
{%- endcall -%}
{%- endmacro %}

{% macro create_schema(relation) -%}
{%- call statement('create_schema') -%}
  create schema if not exists {{ relation.without_identifier() }}
{%- endcall -%}
{%- endmacro %}

{% macro get_create_table_as_sql(temporary, relation, sql) -%}
{{ return(adapter.dispatch('get_create_table_as_sql', 'dbt')(temporary, relation, sql)) }}
{%- endmacro %}

{% macro default__get_create_table_as_sql(temporary, relation, sql) -%}
{{ return(create_table_as(temporary, relation, sql)) }}
{%- endmacro %}

{% macro create_table_as(temporary, relation, compiled_code, language='sql') -%}
{{ return(adapter.dispatch('create_table_as', 'dbt')(temporary, relation, compiled_code)) }}
{%- endmacro %}

{% macro default__create_table_as(temporary, relation, sql) -%}
create {% if temporary %}temporary {% endif %}table {{ relation.include(database=false, schema=not temporary) }} as (
{{ sql }}
)
{%- endmacro %}

{% macro get_create_view_as_sql(relation, sql) -%}
{{ return(create_view_as(relation, sql)) }}
{%- endmacro %}

{% macro create_view_as(relation, sql) -%}
create view {{ relation }} as (
{{ sql }}
)
{%- endmacro %}
