-- The unrounded parts of each roster unit's score (docs/methodology.md §6, §7): base = (1 − q)·Σ W_i·s_i
-- + q·Q_u, bonus = min(cap, per post · R_u), deductions after caps, veto.
with roster_units as (
    select * from {{ ref('int_roster_units') }}
),

years as (
    select * from {{ ref('int_evaluation_years') }}
),

achievements as (
    select
        year,
        unit_code,
        sum(points order by indicator_code) as indicator_points,
        max(achievement) filter (where indicator_code = 'key_work') as s_key_work,
        max(achievement) filter (where indicator_code = 'reform' and applicable) as s_reform,
        max(achievement) filter (where indicator_code = 'fiscal') as s_fiscal,
        max(achievement) filter (where indicator_code = 'market_service' and applicable) as s_market_service,
        max(achievement) filter (where indicator_code = 'grassroots_service' and applicable) as s_grassroots_service,
        max(achievement) filter (where indicator_code = 'excellence') as s_excellence,
        any_value(required_key_tasks) as required_key_tasks
    from {{ ref('int_indicator_achievements') }}
    group by all
),

reductions as (
    select
        year,
        unit_code,
        sum(posts_cut) as posts_cut
    from {{ ref('int_voluntary_establishment_cuts') }}
    group by all
),

deductions as (
    select
        year,
        unit_code,
        cast(sum(points) as double) as deductions
    from {{ ref('int_deduction_lines') }}
    group by all
),

vetoes as (
    select distinct
        year,
        unit_code
    from {{ ref('stg_performance__incidents') }}
    where kind = 'veto'
),

establishment as (
    select
        year,
        unit_code,
        establishment_jan1
    from {{ ref('int_establishment_totals') }}
),

final as (
    select
        roster_units.year,
        roster_units.unit_code,
        roster_units.unit_name,
        roster_units.group_code,
        roster_units.category,
        roster_units.stage,
        roster_units.as_of,
        roster_units.parameter_year,
        roster_units.in_register,
        establishment.establishment_jan1 as establishment,
        achievements.required_key_tasks,
        achievements.s_key_work,
        achievements.s_reform,
        achievements.s_fiscal,
        achievements.s_market_service,
        achievements.s_grassroots_service,
        achievements.s_excellence,
        qualitative.qualitative_achievement as qualitative_score,
        qualitative.has_reviews,
        years.qualitative_share,
        achievements.indicator_points + years.qualitative_share * qualitative.qualitative_achievement as base_score,
        coalesce(reductions.posts_cut, 0) as posts_cut,
        least(years.bonus_cap, years.bonus_per_post * coalesce(reductions.posts_cut, 0)) as bonus,
        coalesce(deductions.deductions, 0) as deductions,
        vetoes.unit_code is not null as vetoed
    from roster_units
    inner join years on roster_units.year = years.year
    inner join achievements on roster_units.year = achievements.year and roster_units.unit_code = achievements.unit_code
    inner join {{ ref('int_qualitative_scores') }} as qualitative
        on roster_units.year = qualitative.year and roster_units.unit_code = qualitative.unit_code
    inner join establishment
        on roster_units.year = establishment.year and roster_units.unit_code = establishment.unit_code
    left join reductions on roster_units.year = reductions.year and roster_units.unit_code = reductions.unit_code
    left join deductions on roster_units.year = deductions.year and roster_units.unit_code = deductions.unit_code
    left join vetoes on roster_units.year = vetoes.year and roster_units.unit_code = vetoes.unit_code
)

select
    *,
    greatest(0.0, base_score + bonus - deductions) as total_unrounded
from final
