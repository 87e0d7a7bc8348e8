{#- A number in a clue's Chinese detail line: at most 2 decimals, trailing zeros dropped. -#}
{% macro clue_number(expression) -%}
    regexp_replace(printf('%.2f', {{ expression }}), '\.?0+$', '')
{%- endmacro %}

{#- The key of a progress report (its contract key), as a JSON-ready struct. -#}
{% macro report_key(report) -%}
    {'task_id': {{ report }}.task_id, 'quarter': {{ report }}.quarter,
     'reported_on': strftime({{ report }}.reported_on, '%Y-%m-%d')}
{%- endmacro %}
