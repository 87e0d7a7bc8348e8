-- Two stints of one person covering the same day of the year up to as_of (docs/methodology.md
-- §10, §11), in one unit or two: one row per pair of stints, with the days they share. The person
-- is the register's keyed hash, never its ids.
with years as (
    select
        year,
        as_of
    from {{ ref('int_evaluation_years') }}
),

stints as (
    select
        years.year,
        persons.person_key,
        persons.unit_code,
        persons.entry_date,
        greatest(persons.entry_date, make_date(years.year, 1, 1)) as overlap_from,
        least(coalesce(persons.exit_date, years.as_of), years.as_of) as overlap_to
    from {{ ref('stg_staffing__persons') }} as persons
    inner join years
        on
            persons.entry_date <= years.as_of
            and (persons.exit_date is null or persons.exit_date >= make_date(years.year, 1, 1))
),

final as (
    select
        first_stint.year,
        first_stint.person_key,
        first_stint.unit_code as first_unit,
        second_stint.unit_code as second_unit,
        greatest(first_stint.overlap_from, second_stint.overlap_from) as overlap_from,
        least(first_stint.overlap_to, second_stint.overlap_to) as overlap_to
    from stints as first_stint
    inner join stints as second_stint
        on
            first_stint.year = second_stint.year
            and first_stint.person_key = second_stint.person_key
            and (
                first_stint.entry_date < second_stint.entry_date
                or (first_stint.entry_date = second_stint.entry_date and first_stint.unit_code < second_stint.unit_code)
            )
    where
        greatest(first_stint.overlap_from, second_stint.overlap_from)
        <= least(first_stint.overlap_to, second_stint.overlap_to)
)

select * from final
