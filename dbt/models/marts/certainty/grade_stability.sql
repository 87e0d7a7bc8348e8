-- Grade certainty of every year-end ranking (docs/methodology.md §14). int_qualitative_draws
-- resamples the reviews (Q_u per draw); here each draw's total is recomputed with everything else
-- fixed — the qualitative line changes, the other lines of int_score_line_items stay, the floor at
-- 0 and round2 (§11) apply again — and rank_and_grade ranks and grades every draw by the rules of
-- int_unit_rankings. Per unit: the share of draws in each grade and the 5th and 95th percentile
-- of its rank in the category group (linear interpolation between order statistics).
-- `kaohe stability` fills int_unit_rankings and int_score_line_items of a scratch warehouse from
-- the published unit_scores and score_line_items (dagster_project/analysis/stability.py).
with parameters as (
    select
        year,
        max(case when parameter = 'qualitative_share' then value end) as qualitative_share,
        max(case when parameter = 'grade1_share' then value end) as grade1_share,
        max(case when parameter = 'grade1_min_total' then value end) as grade1_min_total,
        max(case when parameter = 'grade3_below_total' then value end) as grade3_below_total
    from ({{ methodology_rows('methodology_parameters') }}) as parameters_in_force
    group by year
),

-- every line but the qualitative one and the floor, which a draw recomputes
fixed_points as (
    select
        year,
        unit_code,
        sum(points order by line_no) as points
    from {{ ref('int_score_line_items') }}
    where component not in ('qualitative', 'floor')
    group by year, unit_code
),

totals as (
    select
        draws.draw,
        rankings.year,
        rankings.unit_code,
        rankings.group_code,
        rankings.category,
        rankings.s_key_work,
        rankings.establishment,
        rankings.vetoed,
        parameters.grade1_share,
        parameters.grade1_min_total,
        parameters.grade3_below_total,
        {{ round2(
            'greatest(0.0, coalesce(fixed_points.points, 0.0)'
            ~ ' + parameters.qualitative_share * draws.qualitative_score)'
        ) }} as total_score
    from {{ ref('int_qualitative_draws') }} as draws
    inner join {{ ref('int_unit_rankings') }} as rankings
        on draws.year = rankings.year and draws.unit_code = rankings.unit_code
    inner join parameters on draws.year = parameters.year
    left join fixed_points on draws.year = fixed_points.year and draws.unit_code = fixed_points.unit_code
    where rankings.stage = 'year_end'
),

graded as (
    {{ rank_and_grade('totals', by=['draw']) }}
),

final as (
    select
        year,
        unit_code,
        cast(count(*) as integer) as draws,
        avg(case when grade = 1 then 1.0 else 0.0 end) as p_grade1,
        avg(case when grade = 2 then 1.0 else 0.0 end) as p_grade2,
        avg(case when grade = 3 then 1.0 else 0.0 end) as p_grade3,
        quantile_cont(rank_in_category, 0.05) as rank_p05,
        quantile_cont(rank_in_category, 0.95) as rank_p95
    from graded
    group by year, unit_code
)

select * from final
