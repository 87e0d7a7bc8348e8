-- Every stint of a person in a unit (a row of the register's persons) that covers a day of an
-- evaluated year up to as_of (docs/methodology.md §10, §11), with the first and last day it
-- covers in that span. The person is the register's keyed hash, never its ids. Read by
-- int_persons_in_post (the stints in force on as_of) and int_stint_overlaps.
with years as (
    select
        year,
        as_of
    from {{ ref('int_evaluation_years') }}
),

final as (
    select
        years.year,
        years.as_of,
        persons.person_key,
        persons.unit_code,
        persons.staffing_type,
        persons.position_kind,
        persons.entry_date,
        persons.exit_date,
        greatest(persons.entry_date, make_date(years.year, 1, 1)) as covered_from,
        least(coalesce(persons.exit_date, years.as_of), years.as_of) as covered_to
    from {{ ref('stg_staffing__persons') }} as persons
    inner join years
        on
            persons.entry_date <= years.as_of
            and (persons.exit_date is null or persons.exit_date >= make_date(years.year, 1, 1))
)

select * from final
