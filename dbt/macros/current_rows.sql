{#- The rejected rows of the current load of a table whose key has an accepted version in an
    earlier load: (line of the rejected row, load carried from), one row per rejected row. Also read
    by the data issues (int_rejected_rows), so both say the same. -#}
{% macro carried_forward_keys(system, table) -%}
    {%- set key = contract_key(system, table) -%}
    {%- set name = system ~ '.' ~ table -%}
    {%- set current -%}
        (
            select current_loads.load_id from {{ source('ingest', 'current_loads') }} as current_loads
            where current_loads.table_name = '{{ name }}'
        )
    {%- endset -%}
    select
        line,
        load_id,
        carried_from_load,
        carried_from_line
    from (
        select
            rejected.line,
            rejected.load_id,
            earlier_load._load_id as carried_from_load,
            earlier_load._line as carried_from_line,
            -- the version of the load most recently made current (then the newest load)
            row_number() over (
                partition by rejected.load_id, rejected.line
                order by applied.last_applied desc, earlier_load._load_id desc
            ) as version
        from (
            select
                rows.load_id,
                rows.line
                {%- for column in key %},
                json_extract_string(rows.row_json, '$.{{ column }}') as {{ column }}
                {%- endfor %}
            from {{ source('ingest', 'quarantine_rows') }} as rows
            where rows.table_name = '{{ name }}' and rows.load_id = {{ current }}
        ) as rejected
        -- joined on the key before any window: only the few rejected keys' earlier rows are read on
        inner join {{ source(system, table) }} as earlier_load
            on
            {%- for column in key %}
                {% if not loop.first %}and {% endif %}rejected.{{ column }} = earlier_load.{{ column }}
            {%- endfor %}
                and earlier_load._load_id != {{ current }}
        inner join (
            select
                load_events.load_id,
                max(load_events.applied_at) as last_applied
            from {{ source('ingest', 'load_events') }} as load_events
            where load_events.table_name = '{{ name }}'
            group by load_events.load_id
        ) as applied on earlier_load._load_id = applied.load_id
    ) as candidates
    where version = 1
{%- endmacro %}

{#- The rows of a source table in force (docs/sources.md "Bad input", docs/methodology.md §9): the
    current load's rows, and for each key whose row the current load rejected (a contract violation,
    a duplicated key, a dangling reference) the last accepted version of that key from an earlier
    load, carried forward instead of disappearing. The key is the contract's (macro contract_key,
    generated from the contracts). -#}
{% macro current_rows(system, table) -%}
    (
        select * from {{ source(system, table) }}
        where {{ current_load(system, table) }}
        union all
        -- every row sharing a duplicated key was rejected: the key's earlier version comes once
        select carried.* from {{ source(system, table) }} as carried
        semi join ({{ carried_forward_keys(system, table) }}) as keys
            on carried._load_id = keys.carried_from_load and carried._line = keys.carried_from_line
    )
{%- endmacro %}
