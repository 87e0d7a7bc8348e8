-- Approved posts per staffing type on as_of (the in-force row with the latest effective_from)
-- next to the people in post of that type (METHODOLOGY §10, §11).
with roster_units as (
    select
        year,
        unit_code,
        as_of
    from {{ ref('int_roster_units') }}
),

approved as (
    select
        roster_units.year,
        roster_units.unit_code,
        establishment.staffing_type,
        establishment.approved_count,
        establishment.chief_leader_posts,
        establishment.deputy_leader_posts,
        row_number() over (
            partition by roster_units.year, roster_units.unit_code, establishment.staffing_type
            order by establishment.effective_from desc
        ) as recency
    from roster_units
    inner join {{ ref('stg_staffing__establishment') }} as establishment
        on
            roster_units.unit_code = establishment.unit_code
            and roster_units.as_of >= establishment.effective_from
            and (establishment.effective_to is null or roster_units.as_of <= establishment.effective_to)
),

approved_in_force as (
    select * from approved
    where recency = 1
),

people as (
    select
        year,
        unit_code,
        staffing_type,
        count(*) as headcount,
        count(*) filter (where position_kind = 'chief_leader') as chief_leaders,
        count(*) filter (where position_kind = 'deputy_leader') as deputy_leaders
    from {{ ref('int_persons_in_post') }}
    group by year, unit_code, staffing_type
),

final as (
    select
        coalesce(approved.year, people.year) as year,
        coalesce(approved.unit_code, people.unit_code) as unit_code,
        coalesce(approved.staffing_type, people.staffing_type) as staffing_type,
        coalesce(approved.approved_count, 0) as approved,
        coalesce(approved.chief_leader_posts, 0) as chief_posts,
        coalesce(approved.deputy_leader_posts, 0) as deputy_posts,
        coalesce(people.headcount, 0) as headcount,
        coalesce(people.chief_leaders, 0) as chief_leaders,
        coalesce(people.deputy_leaders, 0) as deputy_leaders
    from approved_in_force as approved
    full outer join people
        on
            approved.year = people.year
            and approved.unit_code = people.unit_code
            and approved.staffing_type = people.staffing_type
)

select * from final
