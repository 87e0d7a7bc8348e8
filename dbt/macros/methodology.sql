{#- The evaluation date (METHODOLOGY §11): var as_of, else today in Asia/Shanghai. -#}
{% macro as_of() -%}
    {%- if var('as_of', '') -%}
        cast('{{ var("as_of") }}' as date)
    {%- else -%}
        cast(timezone('Asia/Shanghai', current_timestamp) as date)
    {%- endif -%}
{%- endmacro %}

{#- round2 of METHODOLOGY §11: to 9 decimals first, then 2 decimals half away from zero. -#}
{% macro round2(expression) -%}
    round(cast({{ expression }} as decimal(38, 9)), 2)
{%- endmacro %}

{#- The methodology rows in force for each evaluated year (its parameter_year). -#}
{% macro methodology_rows(seed) -%}
    select
        evaluation_years.year,
        {{ seed }}.* exclude (year)
    from {{ ref('int_evaluation_years') }} as evaluation_years
    inner join {{ ref(seed) }} as {{ seed }}
        on evaluation_years.parameter_year = {{ seed }}.year
{%- endmacro %}
