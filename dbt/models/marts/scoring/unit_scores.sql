-- Published scores, ranks and grades of every roster unit (docs/methodology.md §7, §9, §11), ranked
-- in int_unit_rankings (grades are a year-end result: none in an interim ranking). A unit touched by
-- a rejected row (int_unit_data_issues) is data_complete = false; a year-end ranking with such a
-- unit, or with a roster unit not ranked, is provisional, else final (kaohe run
-- --accept-incomplete makes a provisional one final at publication:
-- dagster_project/publish/snapshot.py).
with ranked as (
    select * from {{ ref('int_unit_rankings') }}
),

issues as (
    select
        year,
        unit_code,
        count(*) as data_issues,
        count(*) filter (where issue = 'rejected_row') as open_issues
    from {{ ref('int_unit_data_issues') }}
    group by year, unit_code
),

open_years as (
    select distinct year from {{ ref('int_unit_data_issues') }}
    where issue in ('rejected_row', 'not_ranked')
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
        ranked.in_register,
        case
            when ranked.stage != 'year_end' then 'interim'
            when open_years.year is not null then 'provisional'
            else 'final'
        end as ranking_status,
        coalesce(issues.open_issues, 0) = 0 as data_complete,
        cast(coalesce(issues.data_issues, 0) as integer) as data_issues
    from ranked
    left join issues on ranked.year = issues.year and ranked.unit_code = issues.unit_code
    left join open_years on ranked.year = open_years.year
)

select * from final
