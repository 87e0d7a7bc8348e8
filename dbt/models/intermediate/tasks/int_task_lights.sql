-- Red/yellow/green lights (红黄绿灯, docs/methodology.md §8, §11) for each eligible task and each
-- quarter ended by as_of: planned p_q (milestone, else the time schedule), actual a_q from the
-- reports of quarters <= q dated <= as_of (a false report among them zeroes it), gap = p − a.
-- A quarter whose report was not in within the grace days is red, reason not_reported, once
-- as_of is past the deadline.
with quarter_numbers as (
    select unnest(range(1, 5)) as q
),

tasks as (
    select * from {{ ref('int_tasks_classified') }}
    where status = 'eligible'
),

years as (
    select * from {{ ref('int_evaluation_years') }}
),

quarters as (
    select
        tasks.task_id,
        tasks.year,
        tasks.unit_code,
        tasks.is_quantified,
        tasks.target_value,
        quarter_number.q as quarter,
        last_day(make_date(tasks.year, quarter_number.q * 3, 1)) as quarter_end,
        years.as_of,
        years.report_grace_days,
        years.light_green_max_gap,
        years.light_yellow_max_gap,
        coalesce(
            case quarter_number.q
                when 1 then tasks.milestone_q1
                when 2 then tasks.milestone_q2
                when 3 then tasks.milestone_q3
                else tasks.milestone_q4
            end,
            years.schedule_pct_per_quarter * quarter_number.q
        ) as planned
    from tasks
    inner join years on tasks.year = years.year
    cross join quarter_numbers as quarter_number
    where last_day(make_date(tasks.year, quarter_number.q * 3, 1)) <= years.as_of
),

reports as (
    select progress.*
    from {{ ref('stg_performance__progress') }} as progress
    inner join tasks on progress.task_id = tasks.task_id
),

visible as (
    select
        quarters.task_id,
        quarters.quarter,
        quarters.quarter_end,
        quarters.report_grace_days,
        reports.task_id as report_task_id,
        reports.quarter as report_quarter,
        reports.reported_on,
        reports.actual_value,
        reports.actual_pct,
        reports.verified_status,
        row_number() over (
            partition by quarters.task_id, quarters.quarter
            order by reports.quarter desc, reports.reported_on desc
        ) as recency
    from quarters
    left join reports
        on
            quarters.task_id = reports.task_id
            and quarters.quarter >= reports.quarter
            and quarters.as_of >= reports.reported_on
),

per_quarter as (
    select
        task_id,
        quarter,
        max(actual_value) filter (where recency = 1) as actual_value,
        max(actual_pct) filter (where recency = 1) as actual_pct,
        count(report_task_id) as reports_so_far,
        bool_or(verified_status = 'false_report') as false_report,
        bool_or(report_quarter = quarter and reported_on <= quarter_end + report_grace_days) as reported_in_time
    from visible
    group by task_id, quarter
),

measured as (
    select
        quarters.*,
        per_quarter.false_report,
        per_quarter.reported_in_time,
        100.0 * case
            when coalesce(per_quarter.false_report, false) or per_quarter.reports_so_far = 0 then 0.0
            else {{ reported_completion('per_quarter', 'quarters') }}
        end as actual
    from quarters
    inner join per_quarter on quarters.task_id = per_quarter.task_id and quarters.quarter = per_quarter.quarter
),

final as (
    select
        year,
        task_id,
        quarter,
        unit_code,
        quarter_end,
        planned,
        actual,
        planned - actual as gap,
        case
            when as_of >= quarter_end + report_grace_days and not coalesce(reported_in_time, false) then 'red'
            when planned - actual <= light_green_max_gap then 'green'
            when planned - actual <= light_yellow_max_gap then 'yellow'
            else 'red'
        end as light,
        case
            when as_of >= quarter_end + report_grace_days and not coalesce(reported_in_time, false) then 'not_reported'
            when coalesce(false_report, false) then 'false_report'
            when planned - actual <= light_green_max_gap then 'on_schedule'
            when planned - actual <= light_yellow_max_gap then 'behind_schedule'
            else 'far_behind_schedule'
        end as reason,
        row_number() over (partition by task_id order by quarter desc) = 1 as is_latest
    from measured
)

select * from final
