-- The incidents behind a veto or an incident deduction (docs/methodology.md §7, §9): one row per
-- incident of a roster unit in an evaluated year, with its kind and points; never the source's
-- free-text note (it may name people).
with roster_units as (
    select
        year,
        unit_code
    from {{ ref('int_roster_units') }}
),

incidents as (
    select * from {{ ref('stg_performance__incidents') }}
),

final as (
    select
        incidents.year,
        incidents.unit_code,
        incidents.incident_id,
        incidents.kind,
        cast(incidents.points as decimal(9, 2)) as points,
        incidents.kind = 'veto' as vetoes,
        incidents.kind in ('criticism', 'accountability') as deducted
    from incidents
    inner join roster_units on incidents.year = roster_units.year and incidents.unit_code = roster_units.unit_code
)

select * from final
