-- Tasks of roster units for their year, classified (docs/methodology.md §2, §11 Scope):
-- not_approved (approved false or null), outside_statutory_duty (越位: no duty, or not a duty
-- of the unit in force on 1 January), or eligible; with the task-quality facts of §7.
with tasks as (
    select * from {{ ref('stg_performance__tasks') }}
),

roster_units as (
    select * from {{ ref('int_roster_units') }}
),

years as (
    select * from {{ ref('int_evaluation_years') }}
),

duties as (
    select * from {{ ref('int_duties_in_force') }}
),

divisions as (
    select * from {{ ref('stg_staffing__divisions') }}
),

joined as (
    select
        tasks.*,
        years.as_of,
        years.default_difficulty,
        duties.duty_code is not null as duty_in_force,
        exists(
            select 1 from divisions
            where
                divisions.division_code = tasks.division_code
                and divisions.unit_code = tasks.unit_code
                and {{ in_force_on('years.as_of', 'divisions.effective_from', 'divisions.effective_to') }}
        ) as division_active
    from tasks
    inner join roster_units on tasks.year = roster_units.year and tasks.unit_code = roster_units.unit_code
    inner join years on tasks.year = years.year
    left join duties
        on
            tasks.year = duties.year
            and tasks.unit_code = duties.unit_code
            and tasks.duty_code = duties.duty_code
),

final as (
    select
        task_id,
        year,
        unit_code,
        indicator_code,
        title,
        duty_code,
        division_code,
        target_value,
        milestone_q1,
        milestone_q2,
        milestone_q3,
        milestone_q4,
        origin,
        workload_person_months,
        case
            when not coalesce(approved, false) then 'not_approved'
            when duty_code is null or not duty_in_force then 'outside_statutory_duty'
            else 'eligible'
        end as status,
        coalesce(difficulty, default_difficulty) as difficulty,
        target_value is not null and target_value > 0 as is_quantified,
        milestone_q1 is not null and milestone_q2 is not null
        and milestone_q3 is not null and milestone_q4 is not null as has_all_milestones,
        division_active,
        source_line
    from joined
)

select * from final
