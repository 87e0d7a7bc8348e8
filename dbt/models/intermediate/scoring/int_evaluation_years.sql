-- One row per evaluated year: every roster year that has begun by as_of (docs/methodology.md §11),
-- with the methodology parameter year in force, the stage of the ranking and the months elapsed.
-- A year is evaluated on d_Y = min(as_of, 15 January Y+1) (docs/methodology.md §9): the column
-- as_of below is d_Y, so every model reading it counts nothing dated after the year's deadline,
-- and a year-end ranking does not depend on the day the run happens.
with roster_years as (
    select distinct year from {{ ref('stg_performance__roster') }}
),

parameter_years as (
    select distinct year from {{ ref('methodology_parameters') }}
),

evaluated as (
    select
        roster_years.year,
        {{ as_of() }} as run_as_of,
        coalesce(
            (
                select max(parameter_years.year) from parameter_years
                where parameter_years.year <= roster_years.year
            ),
            (select min(parameter_years.year) from parameter_years)
        ) as parameter_year
    from roster_years
    where make_date(roster_years.year, 1, 1) <= {{ as_of() }}
),

parameters as (
    select
        evaluated.year,
        max(case when p.parameter = 'qualitative_share' then p.value end) as qualitative_share,
        max(case when p.parameter = 'default_difficulty' then p.value end) as default_difficulty,
        max(case when p.parameter = 'schedule_pct_per_quarter' then p.value end) as schedule_pct_per_quarter,
        max(case when p.parameter = 'execution_target_rate' then p.value end) as execution_target_rate,
        max(case when p.parameter = 'staff_control_slope' then p.value end) as staff_control_slope,
        max(case when p.parameter = 'three_public_slope' then p.value end) as three_public_slope,
        max(case when p.parameter = 'bonus_per_post' then p.value end) as bonus_per_post,
        max(case when p.parameter = 'bonus_cap' then p.value end) as bonus_cap,
        max(case when p.parameter = 'light_green_max_gap' then p.value end) as light_green_max_gap,
        max(case when p.parameter = 'light_yellow_max_gap' then p.value end) as light_yellow_max_gap,
        cast(max(case when p.parameter = 'report_grace_days' then p.value end) as integer) as report_grace_days,
        max(case when p.parameter = 'grade1_share' then p.value end) as grade1_share,
        max(case when p.parameter = 'grade1_min_total' then p.value end) as grade1_min_total,
        max(case when p.parameter = 'grade3_below_total' then p.value end) as grade3_below_total,
        max(case when p.parameter = 'saturation_increase_above' then p.value end) as saturation_increase_above,
        max(case when p.parameter = 'saturation_review_below' then p.value end) as saturation_review_below
    from evaluated
    inner join {{ ref('methodology_parameters') }} as p on evaluated.parameter_year = p.year
    group by evaluated.year
),

deadlines as (
    select
        evaluated.*,
        parameters.* exclude (parameters.year),
        make_date(evaluated.year, 1, 1) as year_start,
        make_date(evaluated.year, 12, 31) as year_end,
        make_date(evaluated.year, 12, 31) + parameters.report_grace_days as final_from
    from evaluated
    inner join parameters on evaluated.year = parameters.year
),

dated as (
    select
        *,
        least(run_as_of, final_from) as as_of
    from deadlines
),

final as (
    select
        *,
        case
            when as_of >= final_from then 'year_end'
            when as_of >= make_date(year, 12, 31) then 'q4_monitoring'
            when as_of >= make_date(year, 9, 30) then 'q3_monitoring'
            when as_of >= make_date(year, 6, 30) then 'half_year'
            when as_of >= make_date(year, 3, 31) then 'q1_monitoring'
            else 'target_setting'
        end as stage,
        -- m: calendar months of the year ended on or before as_of, clamped to 1..12
        greatest(1, least(
            12,
            case
                when as_of >= year_end then 12
                else month(as_of) - 1 + case when as_of = last_day(as_of) then 1 else 0 end
            end
        )) as months_elapsed
    from dated
)

select * from final  -- noqa: AM04
