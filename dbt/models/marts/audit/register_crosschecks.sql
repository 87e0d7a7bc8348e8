-- Cross-checks of the evaluation against the real-name register (绩效考核 + 实名制, docs/methodology.md
-- §10, §11): business findings, not contract violations, one row per unit, check and subject. The
-- findings are computed in intermediate/register; here they are worded and kept for roster units
-- (a finding involving an off-roster unit is reported on the roster units involved), except
-- abolished units still in use, which covers every unit of the register. The detail is in Chinese (the
-- workbook and the scorecard show it); codes and dates as they are.
with years as (
    select
        year,
        as_of
    from {{ ref('int_evaluation_years') }}
),

roster_units as (
    select
        year,
        unit_code
    from {{ ref('int_roster_units') }}
),

inactive_divisions as (
    select
        tasks.year,
        tasks.unit_code,
        'task_division_inactive' as check_name,
        tasks.task_id as subject_key,
        '责任处室 ' || tasks.division_code || ' 在 ' || years.as_of || ' 不是本单位在册的内设机构' as detail
    from {{ ref('int_tasks_classified') }} as tasks
    inner join years on tasks.year = years.year
    where tasks.division_code is not null and not tasks.division_active
),

overlapping_stints as (
    select
        roster_units.year,
        roster_units.unit_code,
        'overlapping_stints' as check_name,
        overlapped.person_key as subject_key,
        string_agg(
            '在 ' || overlapped.first_unit || ' 与 ' || overlapped.second_unit || ' 的任职自 '
            || overlapped.overlap_from || ' 至 ' || overlapped.overlap_to || ' 重叠',
            '；'
            order by overlapped.overlap_from, overlapped.first_unit, overlapped.second_unit
        ) as detail
    from {{ ref('int_stint_overlaps') }} as overlapped
    inner join roster_units
        on
            overlapped.year = roster_units.year
            and roster_units.unit_code in (overlapped.first_unit, overlapped.second_unit)
    group by roster_units.year, roster_units.unit_code, overlapped.person_key
),

shared_core_duties as (
    select
        shared.year,
        shared.unit_code,
        'shared_core_duty' as check_name,
        shared.duty_code as subject_key,
        '同一核心职责由多个单位承担：' || shared.claimed_by as detail
    from {{ ref('int_shared_core_duties') }} as shared
    inner join roster_units on shared.year = roster_units.year and shared.unit_code = roster_units.unit_code
),

abolished_in_use as (
    select
        year,
        unit_code,
        'abolished_unit_in_use' as check_name,
        unit_code as subject_key,
        '已于 ' || abolished_on || ' 撤销，' || as_of || ' 仍有核定编制 ' || approved
        || ' 名、在编 ' || headcount || ' 人' as detail
    from {{ ref('int_abolished_units_in_use') }}
),

final as (
    select * from inactive_divisions
    union all
    select * from overlapping_stints
    union all
    select * from shared_core_duties
    union all
    select * from abolished_in_use
)

select
    year,
    unit_code,
    check_name as "check",
    subject_key,
    detail
from final
