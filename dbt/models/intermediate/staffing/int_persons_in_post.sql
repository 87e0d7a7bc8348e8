-- People in post on as_of of each evaluated year, in every unit of the register (docs/methodology.md
-- §10, §11): one row per person and unit; when two stints of the person in the unit cover
-- as_of, the one entered last gives the staffing type and position. A person in post in two
-- units counts in both. The one place "in post on a day" is written.
with stints as (
    select
        year,
        unit_code,
        person_key,
        staffing_type,
        position_kind,
        row_number() over (
            partition by year, unit_code, person_key
            order by entry_date desc
        ) as recency
    from {{ ref('int_person_stints') }}
    where {{ in_force_on('as_of', 'entry_date', 'exit_date') }}
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
