-- The progress reports a clue of false results may cite (docs/methodology.md §13): reports of the
-- eligible tasks of roster units, dated <= the year's evaluation date, each with its own progress
-- (100 · actual_value / target_value for a quantified task, else actual_pct; missing → 0),
-- computed from that report alone: not clipped, not zeroed by a false report (neither §3's c_t
-- nor §8's lights). Flags: the latest report of its quarter, and the task's latest report (§11).
with tasks as (
    select
        task_id,
        year,
        unit_code,
        is_quantified,
        target_value
    from {{ ref('int_tasks_classified') }}
    where status = 'eligible'
),

years as (
    select
        year,
        as_of,
        stage
    from {{ ref('int_evaluation_years') }}
),

reports as (
    select
        tasks.year,
        tasks.unit_code,
        progress.task_id,
        progress.quarter,
        progress.reported_on,
        progress.actual_value,
        progress.actual_pct,
        progress.verified_status,
        tasks.is_quantified,
        tasks.target_value,
        years.stage,
        case
            when tasks.is_quantified then 100.0 * coalesce(progress.actual_value, 0) / tasks.target_value
            else coalesce(progress.actual_pct, 0)
        end as progress_pct
    from {{ ref('stg_performance__progress') }} as progress
    inner join tasks on progress.task_id = tasks.task_id
    inner join years on tasks.year = years.year
    where progress.reported_on <= years.as_of
),

final as (
    select
        *,
        row_number() over (partition by task_id, quarter order by reported_on desc) = 1 as latest_of_quarter,
        row_number() over (partition by task_id order by quarter desc, reported_on desc) = 1 as latest_of_task
    from reports
)

select * from final
