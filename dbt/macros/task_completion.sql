{#- Completion c_t of a task from a progress report (docs/methodology.md §3,
    §11): a quantified task reports actual_value against its target_value, the others
    actual_pct; clipped to [0, 1]; a missing value counts 0. `report` and `task` are the aliases
    of the relations holding those columns. -#}
{% macro reported_completion(report, task) -%}
    case
        when {{ task }}.is_quantified
            then greatest(0.0, least(1.0, coalesce({{ report }}.actual_value, 0) / {{ task }}.target_value))
        else greatest(0.0, least(1.0, coalesce({{ report }}.actual_pct, 0) / 100.0))
    end
{%- endmacro %}
