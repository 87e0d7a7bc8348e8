-- Headcount H_u on as_of: distinct persons with a stint of the unit covering that day
-- (dates only, not status; docs/methodology.md §11); 0 for a unit nobody is in.
with roster_units as (
    select
        year,
        unit_code
    from {{ ref('int_roster_units') }}
),

final as (
    select
        roster_units.year,
        roster_units.unit_code,
        count(persons.person_key) as headcount
    from roster_units
    left join {{ ref('int_persons_in_post') }} as persons
        on roster_units.year = persons.year and roster_units.unit_code = persons.unit_code
    group by roster_units.year, roster_units.unit_code
)

select * from final
