-- People in post on as_of in each roster unit (METHODOLOGY §10, §11): one row per person and
-- unit; when two stints of the person in the unit cover as_of, the one entered last gives the
-- staffing type and position. A person in post in two units counts in both.
with roster_units as (
    select
        year,
        unit_code,
        as_of
    from {{ ref('int_roster_units') }}
),

stints as (
    select
        roster_units.year,
        roster_units.unit_code,
        persons.person_key,
        persons.staffing_type,
        persons.position_kind,
        row_number() over (
            partition by roster_units.year, roster_units.unit_code, persons.person_key
            order by persons.entry_date desc
        ) as recency
    from roster_units
    inner join {{ ref('stg_staffing__persons') }} as persons
        on
            roster_units.unit_code = persons.unit_code
            and roster_units.as_of >= persons.entry_date
            and (persons.exit_date is null or roster_units.as_of <= persons.exit_date)
),

final as (
    select
        year,
        unit_code,
        person_key,
        staffing_type,
        position_kind
    from stints
    where recency = 1
)

select * from final
