-- Published scores, ranks and grades of every roster unit (docs/methodology.md §7, §9, §11).
-- Ranking within (year, group, category): total desc, key-work achievement desc (unrounded),
-- establishment asc (the leaner unit first), unit_code asc; ranks 1..n without ties.
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
    select
        *,
        row_number() over (
            partition by year, group_code, category
            order by total_score desc, s_key_work desc, establishment asc, unit_code asc
        ) as rank_in_category,
        row_number() over (
            partition by year, group_code
            order by total_score desc, s_key_work desc, establishment asc, unit_code asc
        ) as rank_overall,
        count(*) over (partition by year, group_code, category) as units_in_category,
        -- grade-1 places of the category group: floor(share · n) (docs/methodology.md §9)
        floor(
            cast(grade1_share as decimal(9, 4)) * count(*) over (partition by year, group_code, category)
        ) as grade1_slots
    from rounded
),

grade1_candidates as (
    select
        year,
        unit_code,
        row_number() over (partition by year, group_code, category order by rank_in_category) as candidate_rank
    from ranked
    where not vetoed and total_score >= grade1_min_total
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
        case
            when ranked.vetoed or ranked.total_score < ranked.grade3_below_total then 3
            when grade1_candidates.candidate_rank <= ranked.grade1_slots then 1
            else 2
        end as grade,
        ranked.vetoed,
        cast(ranked.units_in_category as integer) as units_in_category,
        cast(ranked.grade1_slots as integer) as grade1_slots,
        ranked.has_reviews,
        ranked.in_register
    from ranked
    left join
        grade1_candidates
        on ranked.year = grade1_candidates.year and ranked.unit_code = grade1_candidates.unit_code
)

select * from final
