-- Establishment of each roster unit on 1 January (E_u, for N_u and the tie-break) and on
-- as_of (staff control, efficiency), summed over staffing types (docs/methodology.md §11).
with roster_units as (
    select
        year,
        unit_code
    from {{ ref('int_roster_units') }}
),

types as (
    select * from {{ ref('int_establishment_types_in_force') }}
),

final as (
    select
        roster_units.year,
        roster_units.unit_code,
        cast(coalesce(sum(types.approved_count) filter (where types.on_what = 'jan1'), 0) as integer)
            as establishment_jan1,
        cast(coalesce(sum(types.approved_count) filter (where types.on_what = 'as_of'), 0) as integer)
            as establishment_as_of,
        cast(coalesce(sum(types.chief_leader_posts) filter (where types.on_what = 'as_of'), 0) as integer)
            as chief_posts_as_of,
        cast(coalesce(sum(types.deputy_leader_posts) filter (where types.on_what = 'as_of'), 0) as integer)
            as deputy_posts_as_of
    from roster_units
    left join types on roster_units.year = types.year and roster_units.unit_code = types.unit_code
    group by roster_units.year, roster_units.unit_code
)

select * from final
