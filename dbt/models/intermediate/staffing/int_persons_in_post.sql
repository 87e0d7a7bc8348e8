-- People in post on as_of of each evaluated year, in every unit of the register (docs/methodology.md
-- §10, §11): one row per person and unit; when two stints of the person in the unit cover
-- as_of, the one entered last gives the staffing type and position. A person in post in two
-- units counts in both. The one place "in post on a day" is written.
with years as (
    select
        year,
        as_of
    from {{ ref('int_evaluation_years') }}
),

stints as (
    select
        years.year,
        persons.unit_code,
        persons.person_key,
        persons.staffing_type,
        persons.position_kind,
        row_number() over (
            partition by years.year, persons.unit_code, persons.person_key
            order by persons.entry_date desc
        ) as recency
    from years
    inner join {{ ref('stg_staffing__persons') }} as persons
        on {{ in_force_on('years.as_of', 'persons.entry_date', 'persons.exit_date') }}
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
