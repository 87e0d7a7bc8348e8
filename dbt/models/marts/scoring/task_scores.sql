-- Every task of a roster unit for its year, with its status, completion and latest light —
-- what `kaohe explain` shows at task level.
with tasks as (
    select * from {{ ref('int_tasks_classified') }}
),

progress as (
    select * from {{ ref('int_task_progress') }}
),

latest_lights as (
    select
        task_id,
        light,
        reason
    from {{ ref('int_task_lights') }}
    where is_latest
),

final as (
    select
        tasks.year,
        tasks.task_id,
        tasks.unit_code,
        tasks.indicator_code,
        tasks.title,
        tasks.status,
        tasks.duty_code,
        tasks.division_code,
        tasks.difficulty,
        progress.completion,
        progress.false_report,
        latest_lights.light as latest_light,
        latest_lights.reason as latest_light_reason
    from tasks
    inner join progress on tasks.task_id = progress.task_id
    left join latest_lights on tasks.task_id = latest_lights.task_id
)

select * from final
