-- Completion c_t of each task on as_of (docs/methodology.md §3, §11): among reports dated <= as_of,
-- the highest quarter, and within it the latest report, gives the progress; quantified tasks
-- use actual_value / target_value only, others actual_pct / 100; clipped to [0, 1]; no
-- report → 0. Any false_report dated <= as_of, for any quarter, sets c_t = 0.
with tasks as (
    select * from {{ ref('int_tasks_classified') }}
),

years as (
    select
        year,
        as_of
    from {{ ref('int_evaluation_years') }}
),

reports as (
    select progress.*
    from {{ ref('stg_performance__progress') }} as progress
    inner join tasks on progress.task_id = tasks.task_id
    inner join years on tasks.year = years.year
    where progress.reported_on <= years.as_of
),

latest as (
    select
        *,
        row_number() over (partition by task_id order by quarter desc, reported_on desc) as recency
    from reports
),

false_reports as (
    select
        task_id,
        list(quarter || ':' || strftime(reported_on, '%Y-%m-%d') order by reported_on) as false_report_keys
    from reports
    where verified_status = 'false_report'
    group by task_id
),

final as (
    select
        tasks.task_id,
        tasks.year,
        tasks.unit_code,
        latest.quarter as latest_quarter,
        latest.reported_on as latest_reported_on,
        false_reports.task_id is not null as false_report,
        false_reports.false_report_keys,
        case
            when false_reports.task_id is not null or latest.task_id is null then 0.0
            else {{ reported_completion('latest', 'tasks') }}
        end as completion
    from tasks
    left join latest on tasks.task_id = latest.task_id and latest.recency = 1
    left join false_reports on tasks.task_id = false_reports.task_id
)

select * from final
