-- Rounded totals, ranks and grades of every roster unit (docs/methodology.md §7, §9, §11), for
-- unit_scores to publish and for the efficiency figures and staffing signals built beside it.
-- Ranks and grades by the macro rank_and_grade (its rules are shared with grade_stability). Grades
-- are a year-end result (§9): an interim ranking has totals and ranks, no grade and no grade-1 places.
with parts as (
    select * from {{ ref('int_unit_score_parts') }}
),

years as (
    select * from {{ ref('int_evaluation_years') }}
),

rounded as (
    select
        parts.*,
        {{ round2('parts.total_unrounded') }} as total_score,
        years.grade1_share,
        years.grade1_min_total,
        years.grade3_below_total
    from parts
    inner join years on parts.year = years.year
),

ranked as (
    {{ rank_and_grade('rounded') }}
),

final as (
    select
        year,
        unit_code,
        unit_name,
        group_code,
        category,
        stage,
        as_of,
        parameter_year,
        in_register,
        establishment,
        required_key_tasks,
        s_key_work,
        s_reform,
        s_fiscal,
        s_market_service,
        s_grassroots_service,
        s_excellence,
        qualitative_score,
        has_reviews,
        base_score,
        bonus,
        deductions,
        vetoed,
        total_unrounded,
        total_score,
        rank_in_category,
        rank_overall,
        units_in_category,
        case when stage = 'year_end' then grade1_slots end as grade1_slots,
        case when stage = 'year_end' then grade end as grade
    from ranked
)

select * from final
