{#- Layers land in plain schemas (staging, intermediate, marts, snapshots, methodology),
    not dbt's default `<target>_<custom>` names, so BI tools and auditors see stable names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name | trim if custom_schema_name else target.schema }}
{%- endmacro %}
