-- An abolished unit (abolished_on <= as_of) that still has establishment or people in post on
-- as_of (docs/methodology.md §10): every unit of the register, on the roster or not.
with years as (
    select
        year,
        as_of
    from {{ ref('int_evaluation_years') }}
),

establishment_on_as_of as (
    select
        year,
        unit_code,
        sum(approved_count) as approved
    from {{ ref('int_establishment_types_in_force') }}
    where on_what = 'as_of'
    group by year, unit_code
),

people_on_as_of as (
    select
        year,
        unit_code,
        count(*) as headcount
    from {{ ref('int_persons_in_post') }}
    group by year, unit_code
),

final as (
    select
        years.year,
        units.unit_code,
        units.abolished_on,
        years.as_of,
        coalesce(establishment.approved, 0) as approved,
        coalesce(people.headcount, 0) as headcount
    from {{ ref('stg_staffing__units') }} as units
    inner join years on units.abolished_on <= years.as_of
    left join establishment_on_as_of as establishment
        on years.year = establishment.year and units.unit_code = establishment.unit_code
    left join people_on_as_of as people on years.year = people.year and units.unit_code = people.unit_code
    where coalesce(establishment.approved, 0) > 0 or coalesce(people.headcount, 0) > 0
)

select * from final
