-- Every deduction item (扣分, docs/methodology.md §7, §11) with its points before and after its cap.
-- Reasons sharing a cap_group fill the cap in reason_order, items by key within a reason;
-- lines cut to 0 by a cap are kept. Points are decimals so that 15 × 0.2 is exactly 3.
with tasks as (
    select * from {{ ref('int_tasks_classified') }}
),

rules as (
    {{ methodology_rows('methodology_deductions') }}
),

uncovered_core_duties as (
    select
        year,
        unit_code,
        'missing_core_duty' as reason,
        duty_code as item_key,
        detail,
        cast(null as decimal(18, 9)) as own_points,
        json_object('performance.duties', json_array(unit_code || '+' || duty_code)) as source_keys
    from {{ ref('int_uncovered_core_duties') }}
),

task_quality as (
    select
        year,
        unit_code,
        'not_quantified' as reason,
        task_id as item_key,
        '任务未设定量化目标值' as detail
    from tasks
    where status = 'eligible' and not is_quantified
    union all
    select
        year,
        unit_code,
        'no_quarterly_milestones' as reason,
        task_id as item_key,
        '任务缺少季度计划节点' as detail
    from tasks
    where status = 'eligible' and not has_all_milestones
    union all
    select
        year,
        unit_code,
        'no_division' as reason,
        task_id as item_key,
        case
            when division_code is null then '未明确责任处室'
            else '责任处室 ' || division_code || ' 非本单位有效处室'
        end as detail
    from tasks
    where status = 'eligible' and (division_code is null or not division_active)
),

red_lights as (
    select
        lights.year,
        lights.unit_code,
        'red_light' as reason,
        lights.task_id as item_key,
        'Q' || lights.quarter || ' 红灯 (' || lights.reason || ')' as detail
    from {{ ref('int_task_lights') }} as lights
    where lights.is_latest and lights.light = 'red'
),

false_reports as (
    select
        progress.year,
        progress.unit_code,
        'false_report' as reason,
        progress.task_id as item_key,
        '进度报告结果失实' as detail,
        json_object(
            'performance.tasks', json_array(progress.task_id),
            'performance.progress',
            -- the lambda's own parameter k is not a table column
            to_json(list_transform(
                progress.false_report_keys, lambda k: progress.task_id || '+' || k  -- noqa: RF02, RF03
            ))
        ) as source_keys
    from {{ ref('int_task_progress') }} as progress
    where progress.false_report
),

incidents as (
    select
        roster_units.year,
        roster_units.unit_code,
        'incident' as reason,
        incidents.incident_id as item_key,
        case incidents.kind when 'criticism' then '通报批评' else '问责' end as detail,
        cast(incidents.points as decimal(18, 9)) as own_points,
        json_object('performance.incidents', json_array(incidents.incident_id)) as source_keys
    from {{ ref('int_roster_units') }} as roster_units
    inner join {{ ref('stg_performance__incidents') }} as incidents
        on roster_units.year = incidents.year and roster_units.unit_code = incidents.unit_code
    where incidents.kind in ('criticism', 'accountability')
),

items as (
    select * from uncovered_core_duties
    union all by name
    select
        *,
        json_object('performance.tasks', json_array(item_key)) as source_keys
    from task_quality
    union all by name
    select
        *,
        json_object('performance.tasks', json_array(item_key)) as source_keys
    from red_lights
    union all by name
    select * from false_reports
    union all by name
    select * from incidents
),

priced as (
    select
        items.year,
        items.unit_code,
        items.reason,
        items.item_key,
        items.detail,
        cast(items.source_keys as varchar) as source_keys,
        rules.reason_order,
        rules.cap_group,
        rules.cap,
        rules.points_each,
        coalesce(items.own_points, rules.points_each) as points_before_cap
    from items
    inner join rules on items.year = rules.year and items.reason = rules.reason
),

final as (
    select
        *,
        case
            when cap is null then points_before_cap
            else greatest(
                cast(0 as decimal(18, 9)),
                least(
                    points_before_cap,
                    cap - (
                        sum(points_before_cap) over (
                            partition by year, unit_code, cap_group
                            order by reason_order, item_key
                            rows between unbounded preceding and current row
                        ) - points_before_cap
                    )
                )
            )
        end as points
    from priced
)

select * from final
