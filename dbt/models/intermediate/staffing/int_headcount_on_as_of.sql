-- Headcount H_u on as_of: distinct persons with a stint of the unit covering that day
-- (dates only, not status; METHODOLOGY §11).
with roster_units as (
    select
        year,
        unit_code,
        as_of
    from {{ ref('int_roster_units') }}
),

persons as (
    select * from {{ ref('stg_staffing__persons') }}
),

final as (
    select
        roster_units.year,
        roster_units.unit_code,
        count(distinct persons.person_key) as headcount
    from roster_units
    left join persons
        on
            roster_units.unit_code = persons.unit_code
            and roster_units.as_of >= persons.entry_date
            and (persons.exit_date is null or roster_units.as_of <= persons.exit_date)
    group by roster_units.year, roster_units.unit_code
)

select * from final
