-- A failure names a published code without a row in its label table (dbt/seeds/labels): the
-- documented relationships of the dim_* tables (meta.relationships), checked here because DuckDB
-- cannot declare a foreign key on a published table. Add the code's row to its label seed.
-- zh: 失败时列出一个已发布的代码，它在自己的标签表中没有对应的一行（标签表之间的关系无法在发布库中声明为外键，
-- 所以在这里检查）。请在该标签表的种子文件中补上这个代码的一行。
{{ config(meta={'dagster': {'ref': {'name': 'unit_scores'}}}) }}
{%- set relationships = [
    ('dim_stage', 'unit_scores', 'stage'),
    ('dim_category', 'unit_scores', 'category'),
    ('dim_grade', 'unit_scores', 'grade'),
    ('dim_light', 'task_lights', 'light'),
    ('dim_light_reason', 'task_lights', 'reason'),
    ('dim_task_status', 'task_scores', 'status'),
    ('dim_negative_kind', 'negative_list', 'kind'),
    ('dim_signal', 'staffing_signals', 'signal'),
    ('dim_check', 'register_crosschecks', '"check"'),
    ('dim_score_line', 'score_line_items', 'code'),
    ('dim_rejection_reason', 'quarantine', 'reason'),
    ('dim_clue', 'report_clues', 'clue'),
    ('dim_dea_exclusion', 'unit_dea', 'excluded_reason'),
] %}
with used as (
    {%- for label_table, mart, column in relationships %}
        select distinct
            '{{ label_table }}' as label_table,
            cast({{ column }} as varchar) as code
        from {{ ref(mart) }}
        where {{ column }} is not null
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

labelled as (
    {%- for label_table, _, _ in relationships %}
        select
            '{{ label_table }}' as label_table,
            cast(code as varchar) as code
        from {{ ref(label_table) }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

final as (
    select
        used.label_table,
        used.code
    from used
    left join labelled on used.label_table = labelled.label_table and used.code = labelled.code
    where labelled.code is null
)

select * from final
