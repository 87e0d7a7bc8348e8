-- Establishment of each roster unit on 1 January (E_u, for N_u and the tie-break) and on
-- as_of (staff control, efficiency): per staffing type the in-force row with the latest
-- effective_from (a later approval supersedes one left open), summed over types (§11).
with roster_units as (
    select
        year,
        unit_code,
        as_of
    from {{ ref('int_roster_units') }}
),

establishment as (
    select * from {{ ref('stg_staffing__establishment') }}
),

dates as (
    select
        year,
        unit_code,
        'jan1' as on_what,
        make_date(year, 1, 1) as on_date
    from roster_units
    union all
    select
        year,
        unit_code,
        'as_of' as on_what,
        as_of as on_date
    from roster_units
),

in_force as (
    select
        dates.year,
        dates.unit_code,
        dates.on_what,
        establishment.staffing_type,
        establishment.approved_count,
        establishment.chief_leader_posts,
        establishment.deputy_leader_posts,
        establishment.doc_no,
        row_number() over (
            partition by dates.year, dates.unit_code, dates.on_what, establishment.staffing_type
            order by establishment.effective_from desc
        ) as recency
    from dates
    inner join establishment
        on
            dates.unit_code = establishment.unit_code
            and dates.on_date >= establishment.effective_from
            and (establishment.effective_to is null or dates.on_date <= establishment.effective_to)
),

final as (
    select
        roster_units.year,
        roster_units.unit_code,
        cast(coalesce(sum(in_force.approved_count) filter (where in_force.on_what = 'jan1'), 0) as integer)
            as establishment_jan1,
        cast(coalesce(sum(in_force.approved_count) filter (where in_force.on_what = 'as_of'), 0) as integer)
            as establishment_as_of,
        cast(coalesce(sum(in_force.chief_leader_posts) filter (where in_force.on_what = 'as_of'), 0) as integer)
            as chief_posts_as_of,
        cast(coalesce(sum(in_force.deputy_leader_posts) filter (where in_force.on_what = 'as_of'), 0) as integer)
            as deputy_posts_as_of
    from roster_units
    left join in_force
        on
            roster_units.year = in_force.year
            and roster_units.unit_code = in_force.unit_code
            and in_force.recency = 1
    group by roster_units.year, roster_units.unit_code
)

select * from final
