{#- Each delivered file is a full snapshot of its table; raw keeps every load and
    raw.current_loads names the one in force. Staging reads only that load. -#}
{% macro current_load(system, table) -%}
    _load_id = (
        select current_loads.load_id
        from {{ source('ingest', 'current_loads') }} as current_loads
        where current_loads.table_name = '{{ system }}.{{ table }}'
    )
{%- endmacro %}
