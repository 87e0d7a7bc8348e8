{#- Register snapshots are dated by the delivery that carried the register (var snapshot_at, else
    env var KAOHE_SNAPSHOT_AT, which kaohe sets from the delivery folder's date, e.g. 20240131; see
    as_of() for why an env var), not by the time of the run: so rebuilding the warehouse from the retained deliveries
    reproduces the same history. Without either, the time of the run (dbt's default). -#}
{% macro duckdb__snapshot_get_time() -%}
    {%- set value = var('snapshot_at', '') or (env_var('KAOHE_SNAPSHOT_AT', '') if execute else '') -%}
    {%- if value -%}
        cast('{{ value }}' as timestamp)
    {%- else -%}
        {{ current_timestamp() }}::timestamp
    {%- endif -%}
{%- endmacro %}
