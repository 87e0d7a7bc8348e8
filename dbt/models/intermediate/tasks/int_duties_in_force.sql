-- Statutory duties (三定职责) of each roster unit in force on 1 January of the year: the basis
-- of 越位 (tasks outside them) and 缺位 (core duties without a task), docs/methodology.md §2, §7, §11.
with roster_units as (
    select
        year,
        unit_code
    from {{ ref('int_roster_units') }}
),

duties as (
    select * from {{ ref('stg_performance__duties') }}
),

final as (
    select
        roster_units.year,
        roster_units.unit_code,
        duties.duty_code,
        duties.duty_text,
        duties.is_core
    from roster_units
    inner join duties
        on
            roster_units.unit_code = duties.unit_code
            and {{ in_force_on('make_date(roster_units.year, 1, 1)', 'duties.effective_from', 'duties.effective_to') }}
)

select * from final
