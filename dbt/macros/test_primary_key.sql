{#- A model's grain and its required columns in one query: one row per key (`columns`), and no null
    in a key column or a `required` one. Each failing row names its problem: 'duplicate_key' (one row
    per key that has several, with how many share it) or 'null' (one row per null cell, naming its
    column). Names are quoted, so a column may be a keyword. One test per model instead of a
    uniqueness test and a not-null test: dbt spends the same Python overhead on every test it runs,
    whatever its data. -#}
{% test primary_key(model, columns, required=[]) %}
    {%- set checked = [] -%}
    {%- for column in columns + required -%}
        {%- if column | replace('"', '') not in checked %}{% do checked.append(column | replace('"', '')) %}{% endif -%}
    {%- endfor -%}
    select
        'duplicate_key' as problem,
        null as column_name,
        count(*) as rows_sharing_key
    from {{ model }}
    group by
        {%- for column in columns %} {{ adapter.quote(column | replace('"', '')) }}{{ ',' if not loop.last }}{% endfor %}
    having count(*) > 1
    {% for column in checked %}
        union all
        select
            'null' as problem,
            '{{ column }}' as column_name,
            1 as rows_sharing_key
        from {{ model }}
        where {{ adapter.quote(column) }} is null
    {% endfor %}
{% endtest %}
