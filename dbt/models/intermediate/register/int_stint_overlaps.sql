-- Two stints of one person covering the same day of the year up to as_of (docs/methodology.md
-- §10, §11), in one unit or two: one row per pair of stints (int_person_stints), with the days
-- they share. The person is the register's keyed hash, never its ids.
with stints as (
    select
        year,
        person_key,
        unit_code,
        entry_date,
        covered_from,
        covered_to
    from {{ ref('int_person_stints') }}
),

final as (
    select
        first_stint.year,
        first_stint.person_key,
        first_stint.unit_code as first_unit,
        second_stint.unit_code as second_unit,
        greatest(first_stint.covered_from, second_stint.covered_from) as overlap_from,
        least(first_stint.covered_to, second_stint.covered_to) as overlap_to
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
        greatest(first_stint.covered_from, second_stint.covered_from)
        <= least(first_stint.covered_to, second_stint.covered_to)
)

select * from final
