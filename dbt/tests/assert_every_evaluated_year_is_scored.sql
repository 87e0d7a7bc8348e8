-- A failure means a ranking would be published empty: an evaluated year (a roster year begun
-- by as_of) has no unit score, or nothing at all is scored — an empty or shrunken delivery
-- must never look like a result.
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
