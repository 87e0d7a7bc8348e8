-- The fiscal composite 财政绩效 (docs/methodology.md §5, §11) of each roster unit: budget execution,
-- performance goals, staff control and the change of the three public expenses against the
-- same months of last year, weighted by methodology_fiscal_parts.
with roster_units as (
    select
        year,
        unit_code,
        months_elapsed
    from {{ ref('int_roster_units') }}
),

years as (
    select * from {{ ref('int_evaluation_years') }}
),

parts as (
    {{ methodology_rows('methodology_fiscal_parts') }}
),

three_public_codes as (
    {{ methodology_rows('methodology_three_public_codes') }}
),

budget as (
    select
        roster_units.year,
        roster_units.unit_code,
        sum(coalesce(budget.adjusted_amount, budget.budget_amount)) as budget_total
    from roster_units
    inner join {{ ref('stg_finance__budget') }} as budget
        on roster_units.unit_code = budget.unit_code and roster_units.year = budget.fiscal_year
    group by all
),

execution as (
    select
        roster_units.year,
        roster_units.unit_code,
        sum(execution.amount) filter (where execution.fiscal_year = roster_units.year) as executed,
        sum(execution.amount) filter (
            where execution.fiscal_year = roster_units.year and three_public_codes.econ_code is not null
        ) as three_public_this_year,
        sum(execution.amount) filter (
            where execution.fiscal_year = roster_units.year - 1 and three_public_codes.econ_code is not null
        ) as three_public_last_year,
        count(*) filter (
            where execution.fiscal_year = roster_units.year - 1 and three_public_codes.econ_code is not null
        ) as three_public_rows_last_year
    from roster_units
    inner join {{ ref('stg_finance__execution') }} as execution
        on
            roster_units.unit_code = execution.unit_code
            and execution.fiscal_year in (roster_units.year, roster_units.year - 1)
            and roster_units.months_elapsed >= execution.month
    left join three_public_codes
        on roster_units.year = three_public_codes.year and execution.econ_code = three_public_codes.econ_code
    group by all
),

goals as (
    select
        roster_units.year,
        roster_units.unit_code,
        count(*) as goals,
        count(*) filter (where goals.met) as goals_met
    from roster_units
    inner join {{ ref('stg_finance__perf_goals') }} as goals
        on roster_units.unit_code = goals.unit_code and roster_units.year = goals.fiscal_year
    group by all
),

staffing as (
    select
        establishment.year,
        establishment.unit_code,
        establishment.establishment_as_of,
        headcount.headcount
    from {{ ref('int_establishment_totals') }} as establishment
    inner join {{ ref('int_headcount_on_as_of') }} as headcount
        on establishment.year = headcount.year and establishment.unit_code = headcount.unit_code
),

measures as (
    select
        roster_units.year,
        roster_units.unit_code,
        roster_units.months_elapsed,
        cast(coalesce(budget.budget_total, 0) as double) as budget_total,
        cast(coalesce(execution.executed, 0) as double) as executed,
        coalesce(goals.goals, 0) as goals,
        coalesce(goals.goals_met, 0) as goals_met,
        staffing.establishment_as_of,
        staffing.headcount,
        cast(coalesce(execution.three_public_this_year, 0) as double) as three_public_this_year,
        cast(coalesce(execution.three_public_last_year, 0) as double) as three_public_last_year,
        coalesce(execution.three_public_rows_last_year, 0) as three_public_rows_last_year,
        years.execution_target_rate,
        years.staff_control_slope,
        years.three_public_slope
    from roster_units
    inner join years on roster_units.year = years.year
    inner join staffing on roster_units.year = staffing.year and roster_units.unit_code = staffing.unit_code
    left join budget on roster_units.year = budget.year and roster_units.unit_code = budget.unit_code
    left join execution on roster_units.year = execution.year and roster_units.unit_code = execution.unit_code
    left join goals on roster_units.year = goals.year and roster_units.unit_code = goals.unit_code
),

scored as (
    select
        *,
        case when budget_total = 0 then null else executed / budget_total end as execution_rate,
        case
            when budget_total = 0 then 0.0
            else greatest(0.0, least(
                1.0,
                (executed / budget_total) / (execution_target_rate * months_elapsed / 12.0)
            ))
        end as score_budget_execution,
        case when goals = 0 then 0.0 else goals_met / goals end as score_performance_goals,
        case
            when establishment_as_of = 0 then case when headcount = 0 then 1.0 else 0.0 end
            when headcount / establishment_as_of <= 1 then 1.0
            else greatest(0.0, 1 - staff_control_slope * (headcount / establishment_as_of - 1))
        end as score_staff_control,
        case
            when three_public_rows_last_year = 0 then null
            when three_public_last_year <= 0 then null
            else (three_public_this_year - three_public_last_year) / three_public_last_year
        end as three_public_change,
        case
            when three_public_rows_last_year = 0 then 1.0
            when three_public_last_year <= 0 then case when three_public_this_year <= 0 then 1.0 else 0.0 end
            when three_public_this_year <= three_public_last_year then 1.0
            else greatest(
                0.0,
                1 - three_public_slope * (three_public_this_year - three_public_last_year) / three_public_last_year
            )
        end as score_three_public
    from measures
),

final as (
    select
        scored.*,
        sum(
            parts.weight * case parts.fiscal_part
                when 'budget_execution' then scored.score_budget_execution
                when 'performance_goals' then scored.score_performance_goals
                when 'staff_control' then scored.score_staff_control
                when 'three_public' then scored.score_three_public
            end
            order by parts.fiscal_part
        ) as fiscal_achievement
    from scored
    inner join parts on scored.year = parts.year
    group by all
)

select * from final
