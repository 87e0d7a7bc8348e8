-- Every row rejected by the loads in force, with the roster unit it touches and which years
-- (docs/methodology.md §9, "Complete data, or a provisional ranking"; docs/sources.md "Bad input").
-- A row touches its own unit_code, or its parent's: a progress row → its task (in force or itself
-- rejected) → the task's unit. A row with a year/fiscal_year touches that year (execution rows also
-- the next one); a row without one, or with an unreadable one, every evaluated year (touched_year
-- null). carried_from_* name the earlier accepted version kept in its place (macro current_rows).
{%- set tables = [
    ('staffing', 'units', none), ('staffing', 'establishment', none), ('staffing', 'divisions', none),
    ('staffing', 'persons', none), ('finance', 'budget', 'fiscal_year'), ('finance', 'execution', 'fiscal_year'),
    ('finance', 'perf_goals', 'fiscal_year'), ('performance', 'roster', 'year'), ('performance', 'duties', none),
    ('performance', 'tasks', 'year'), ('performance', 'progress', none), ('performance', 'reviews', 'year'),
    ('performance', 'awards', 'year'), ('performance', 'incidents', 'year'),
] %}
with current_loads as (
    select * from {{ source('ingest', 'current_loads') }}
),

loads as (
    select * from {{ source('ingest', 'loads') }}
),

rejected as (
    select
        rows.load_id,
        rows.table_name,
        rows.line,
        loads.delivery,
        nullif(trim(json_extract_string(rows.row_json, '$.unit_code')), '') as own_unit_code,
        nullif(trim(json_extract_string(rows.row_json, '$.task_id')), '') as task_id,
        try_cast(
            coalesce(json_extract_string(rows.row_json, '$.year'), json_extract_string(rows.row_json, '$.fiscal_year'))
            as integer
        ) as own_year
    from {{ source('ingest', 'quarantine_rows') }} as rows
    inner join current_loads on rows.load_id = current_loads.load_id and rows.table_name = current_loads.table_name
    inner join loads on rows.load_id = loads.load_id
),

column_labels as (
    {{ contract_column_labels() }}
),

reason_labels as (
    select
        code,
        label_zh,
        label_en
    from {{ ref('dim_rejection_reason') }}
),

-- each violation's column by its Chinese name: a key's columns ('a+b') each by theirs, joined by 、
violation_parts as (
    select
        quarantine.load_id,
        current_loads.table_name,
        quarantine.line,
        quarantine.column_name,
        quarantine.reason,
        unnest(generate_series(1, len(string_split(quarantine.column_name, '+')))) as part_no
    from {{ source('ingest', 'quarantine') }} as quarantine
    inner join current_loads on quarantine.load_id = current_loads.load_id
),

violation_columns as (
    select
        parts.load_id,
        parts.line,
        parts.column_name,
        parts.reason,
        string_agg(
            coalesce(column_labels.label_zh, split_part(parts.column_name, '+', parts.part_no)), '、'
            order by parts.part_no
        ) as column_zh
    from violation_parts as parts
    left join column_labels
        on
            parts.table_name = column_labels.table_name
            and split_part(parts.column_name, '+', parts.part_no) = column_labels.column_name
    group by parts.load_id, parts.line, parts.column_name, parts.reason
),

violations as (
    select
        columns.load_id,
        columns.line,
        string_agg(distinct columns.reason, '+' order by columns.reason) as reason,
        string_agg(
            columns.column_zh || '：' || coalesce(reasons.label_zh, columns.reason), '；'
            order by columns.column_name, columns.reason
        ) as detail,
        string_agg(
            columns.column_name || ': ' || coalesce(reasons.label_en, columns.reason), '; '
            order by columns.column_name, columns.reason
        ) as detail_en
    from violation_columns as columns
    left join reason_labels as reasons on columns.reason = reasons.code
    group by columns.load_id, columns.line
),

carried as (
    {%- for system, table, _ in tables %}
        select
            '{{ system }}.{{ table }}' as table_name,
            keys.*
        from ({{ carried_forward_keys(system, table) }}) as keys
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

-- a progress row's task: the task in force, else the rejected task row of the current load
tasks_in_force as (
    select
        task_id,
        unit_code,
        year
    from {{ ref('stg_performance__tasks') }}
),

rejected_tasks as (
    select
        task_id,
        any_value(own_unit_code) as unit_code,
        any_value(own_year) as year
    from rejected
    where table_name = 'performance.tasks' and task_id is not null
    group by task_id
),

attributed as (
    select
        rejected.load_id,
        rejected.table_name,
        rejected.line,
        rejected.delivery,
        case
            when rejected.table_name = 'performance.progress'
                then coalesce(tasks_in_force.unit_code, rejected_tasks.unit_code)
            else rejected.own_unit_code
        end as unit_code,
        case
            when rejected.table_name = 'performance.progress'
                then coalesce(tasks_in_force.year, rejected_tasks.year)
            else rejected.own_year
        end as touched_year,
        case
            when rejected.table_name = 'performance.progress' and tasks_in_force.task_id is not null then 'task'
            when
                rejected.table_name = 'performance.progress' and rejected_tasks.task_id is not null
                then 'rejected_task'
            when rejected.table_name = 'performance.progress' then null
            when rejected.own_unit_code is not null then 'own'
        end as attributed_by
    from rejected
    left join tasks_in_force
        on rejected.table_name = 'performance.progress' and rejected.task_id = tasks_in_force.task_id
    left join rejected_tasks
        on rejected.table_name = 'performance.progress' and rejected.task_id = rejected_tasks.task_id
),

final as (
    select
        attributed.load_id,
        attributed.table_name,
        attributed.delivery,
        attributed.line,
        attributed.unit_code,
        attributed.attributed_by,
        attributed.touched_year,
        attributed.table_name = 'finance.execution' as touches_next_year,
        coalesce(violations.reason, 'unknown') as reason,
        violations.detail,
        violations.detail_en,
        carried_loads.delivery as carried_from_delivery,
        carried.carried_from_line
    from attributed
    left join violations on attributed.load_id = violations.load_id and attributed.line = violations.line
    left join carried
        on
            attributed.table_name = carried.table_name
            and attributed.load_id = carried.load_id
            and attributed.line = carried.line
    left join loads as carried_loads on carried.carried_from_load = carried_loads.load_id
)

select * from final
