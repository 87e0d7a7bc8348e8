-- A failure means a ranking would be published empty: an evaluated year (a roster year begun
-- by as_of) has no unit score, or nothing at all is scored — an empty or shrunken delivery
-- must never look like a result.
-- zh: 失败表示将要发布的排名是空的：某个已开始的考核年度没有任何单位得分，或者根本没有得分。
-- 空的或缩水的数据绝不能被当作结果发布。
{{ config(meta={'dagster': {'ref': {'name': 'unit_scores'}}}) }}
with evaluated as (
    select year from {{ ref('int_evaluation_years') }}
),

scored as (
    select distinct year from {{ ref('unit_scores') }}
),

final as (
    select
        evaluated.year,
        'evaluated year without unit scores' as problem
    from evaluated
    where evaluated.year not in (select scored.year from scored)

    union all

    select
        null as year,
        'no unit scores at all' as problem
    where not exists (select 1 from scored)
)

select * from final
