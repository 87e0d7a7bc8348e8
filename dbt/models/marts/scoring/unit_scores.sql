-- Published scores, ranks and grades of every roster unit (docs/methodology.md §7, §9, §11).
-- Ranks and grades by the macro rank_and_grade (its rules are shared with grade_stability).
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
        ranked.year,
        ranked.unit_code,
        ranked.unit_name,
        ranked.group_code,
        ranked.category,
        ranked.stage,
        ranked.as_of,
        ranked.parameter_year,
        ranked.establishment,
        ranked.required_key_tasks,
        ranked.s_key_work,
        ranked.s_reform,
        ranked.s_fiscal,
        ranked.s_market_service,
        ranked.s_grassroots_service,
        ranked.s_excellence,
        cast({{ round2('ranked.qualitative_score') }} as decimal(9, 2)) as qualitative_score,
        cast({{ round2('ranked.base_score') }} as decimal(9, 2)) as base_score,
        cast({{ round2('ranked.bonus') }} as decimal(9, 2)) as bonus,
        cast({{ round2('ranked.deductions') }} as decimal(9, 2)) as deductions,
        cast(ranked.total_score as decimal(9, 2)) as total_score,
        cast(ranked.rank_in_category as integer) as rank_in_category,
        cast(ranked.rank_overall as integer) as rank_overall,
        ranked.grade,
        ranked.vetoed,
        cast(ranked.units_in_category as integer) as units_in_category,
        cast(ranked.grade1_slots as integer) as grade1_slots,
        ranked.has_reviews,
        ranked.in_register
    from ranked
)

select * from final
