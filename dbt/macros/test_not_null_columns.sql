{#- NOT NULL of several columns of a model in one query: one row per null cell, naming its column
    (so the failure count is that of one not_null test per column, summed). One test per model
    instead of one per column: dbt spends the same Python overhead on every test it runs, whatever its data. -#}
{% test not_null_columns(model, columns) %}
    {% for column in columns %}
        select '{{ column }}' as column_name
        from {{ model }}
        where {{ adapter.quote(column) }} is null
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
{% endtest %}
