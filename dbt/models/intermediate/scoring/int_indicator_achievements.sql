-- Achievement s_i of each of the six indicators per roster unit (docs/methodology.md §4, §11), the
-- weight after redistributing not-applicable indicators, and the points (1 − q)·W_i·s_i.
-- key_work uses the staffing-to-task ratio: N_u = max(1, ceil(E_u / r)), E_u on 1 January.
with roster_units as (
    select * from {{ ref('int_roster_units') }}
),

years as (
    select * from {{ ref('int_evaluation_years') }}
),

indicators as (
    {{ methodology_rows('methodology_indicators') }}
),

ratios as (
    {{ methodology_rows('methodology_staffing_ratio') }}
),

award_levels as (
    {{ methodology_rows('methodology_award_levels') }}
),

tasks as (
    select
        classified.year,
        classified.unit_code,
        classified.indicator_code,
        classified.task_id,
        classified.difficulty,
        progress.completion
    from {{ ref('int_tasks_classified') }} as classified
    inner join {{ ref('int_task_progress') }} as progress on classified.task_id = progress.task_id
    where classified.status = 'eligible'
),

task_sums as (
    select
        year,
        unit_code,
        indicator_code,
        count(*) as eligible_tasks,
        sum(difficulty * completion order by task_id) as weighted_completion,
        sum(difficulty order by task_id) as weighted_tasks,
        list(task_id order by task_id) as task_ids
    from tasks
    group by all
),

awards as (
    select
        roster_units.year,
        roster_units.unit_code,
        sum(award_levels.points order by awards.award_id) as award_points,
        list(awards.award_id order by awards.award_id) as award_ids
    from roster_units
    inner join {{ ref('stg_performance__awards') }} as awards
        on roster_units.year = awards.year and roster_units.unit_code = awards.unit_code
    inner join award_levels on awards.year = award_levels.year and awards.level = award_levels.level
    group by all
),

required as (
    select
        roster_units.year,
        roster_units.unit_code,
        establishment.establishment_jan1,
        ratios.posts_per_key_task,
        greatest(1, cast(ceil(establishment.establishment_jan1 / ratios.posts_per_key_task) as integer))
            as required_key_tasks
    from roster_units
    inner join {{ ref('int_establishment_totals') }} as establishment
        on roster_units.year = establishment.year and roster_units.unit_code = establishment.unit_code
    inner join ratios on roster_units.year = ratios.year and roster_units.category = ratios.category
),

achievements as (
    select
        roster_units.year,
        roster_units.unit_code,
        indicators.indicator_code,
        indicators.indicator_order,
        indicators.weight,
        required.required_key_tasks,
        coalesce(task_sums.eligible_tasks, 0) as eligible_tasks,
        coalesce(task_sums.task_ids, []) as task_ids,
        coalesce(awards.award_ids, []) as award_ids,
        indicators.always_applicable or coalesce(task_sums.eligible_tasks, 0) > 0 as applicable,
        case indicators.indicator_code
            when 'key_work' then least(1.0, coalesce(task_sums.weighted_completion, 0) / required.required_key_tasks)
            when 'fiscal' then fiscal.fiscal_achievement
            when 'excellence' then least(1.0, coalesce(awards.award_points, 0))
            else task_sums.weighted_completion / nullif(task_sums.weighted_tasks, 0)
        end as achievement,
        years.qualitative_share
    from roster_units
    inner join years on roster_units.year = years.year
    inner join indicators on roster_units.year = indicators.year
    inner join required on roster_units.year = required.year and roster_units.unit_code = required.unit_code
    inner join {{ ref('int_fiscal_composite') }} as fiscal
        on roster_units.year = fiscal.year and roster_units.unit_code = fiscal.unit_code
    left join task_sums
        on
            roster_units.year = task_sums.year
            and roster_units.unit_code = task_sums.unit_code
            and indicators.indicator_code = task_sums.indicator_code
    left join awards on roster_units.year = awards.year and roster_units.unit_code = awards.unit_code
),

final as (
    select
        *,
        case
            when applicable
                then weight * 100.0 / sum(case when applicable then weight else 0 end)
                    over (partition by year, unit_code)
        end as effective_weight,
        case
            when applicable
                then
                    (1 - qualitative_share) * achievement * weight * 100.0
                    / sum(case when applicable then weight else 0 end) over (partition by year, unit_code)
        end as points
    from achievements
)

select * from final
