{#- Raw cells are contract-checked text ('' = null); staging casts them once, here. -#}
{% macro text(column) -%}
    nullif({{ column }}, '')
{%- endmacro %}

{% macro to_int(column) -%}
    cast(nullif({{ column }}, '') as integer)
{%- endmacro %}

{% macro to_double(column) -%}
    cast(nullif({{ column }}, '') as double)
{%- endmacro %}

{% macro to_money(column) -%}
    cast(nullif({{ column }}, '') as decimal(18, 2))
{%- endmacro %}

{% macro to_date(column) -%}
    cast(nullif({{ column }}, '') as date)
{%- endmacro %}

{% macro to_bool(column) -%}
    cast(nullif({{ column }}, '') as boolean)
{%- endmacro %}
