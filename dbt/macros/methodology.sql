{#- The evaluation date (docs/methodology.md §11): var as_of (unit tests, dbt by hand), else env var
    KAOHE_AS_OF (set by kaohe for each dbt command: a var would make dbt parse the whole project
    again whenever it changes; read only when executing, so parsing never depends on it), else
    today in Asia/Shanghai. -#}
{% macro as_of() -%}
    {%- set value = var('as_of', '') or (env_var('KAOHE_AS_OF', '') if execute else '') -%}
    {%- if value -%}
        cast('{{ value }}' as date)
    {%- else -%}
        cast(timezone('Asia/Shanghai', current_timestamp) as date)
    {%- endif -%}
{%- endmacro %}

{#- round2 of docs/methodology.md §11: to 9 decimals first, then 2 decimals half away from zero. -#}
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

{#- A dated record (valid from `valid_from`, to `valid_to` inclusive, open-ended when null) is in
    force on `day` (docs/methodology.md §11). -#}
{% macro in_force_on(day, valid_from, valid_to) -%}
    ({{ valid_from }} <= {{ day }} and ({{ valid_to }} is null or {{ day }} <= {{ valid_to }}))
{%- endmacro %}
