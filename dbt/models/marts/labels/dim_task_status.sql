-- 任务状态名称 (label table for BI and the pages people read): from seed label_task_statuses.
with labels as (
    select * from {{ ref('label_task_statuses') }}
),

final as (
    select
        code,
        label_zh,
        label_en,
        sort_order
    from labels
)

select * from final
