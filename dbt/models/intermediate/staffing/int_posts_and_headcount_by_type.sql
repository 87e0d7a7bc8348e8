-- Approved posts per staffing type on as_of next to the people in post of that type
-- (docs/methodology.md §10, §11).
with approved as (
    select
        types.year,
        types.unit_code,
        types.staffing_type,
        types.approved_count,
        types.chief_leader_posts,
        types.deputy_leader_posts
    from {{ ref('int_establishment_types_in_force') }} as types
    inner join {{ ref('int_roster_units') }} as roster_units
        on types.year = roster_units.year and types.unit_code = roster_units.unit_code
    where types.on_what = 'as_of'
),

people as (
    select
        persons.year,
        persons.unit_code,
        persons.staffing_type,
        count(*) as headcount,
        count(*) filter (where persons.position_kind = 'chief_leader') as chief_leaders,
        count(*) filter (where persons.position_kind = 'deputy_leader') as deputy_leaders
    from {{ ref('int_persons_in_post') }} as persons
    inner join {{ ref('int_roster_units') }} as roster_units
        on persons.year = roster_units.year and persons.unit_code = roster_units.unit_code
    group by persons.year, persons.unit_code, persons.staffing_type
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
    from approved
    full outer join people
        on
            approved.year = people.year
            and approved.unit_code = people.unit_code
            and approved.staffing_type = people.staffing_type
)

select * from final
