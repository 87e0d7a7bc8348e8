{#- Register snapshots are dated by the delivery that carried the register (var snapshot_at, which
    kaohe sets from the delivery folder's date, e.g. 20240131), not by the time of the run: so
    rebuilding the warehouse from the retained deliveries reproduces the same history. Without
    the var, the time of the run (dbt's default). -#}
{% macro duckdb__snapshot_get_time() -%}
    {%- if var('snapshot_at', '') -%}
        cast('{{ var("snapshot_at") }}' as timestamp)
    {%- else -%}
        {{ current_timestamp() }}::timestamp
    {%- endif -%}
{%- endmacro %}
