-- The evaluated units of each evaluated year (docs/methodology.md §1, §11 Scope), with what the
-- register knows of them; a roster unit missing from the register is kept (a warning).
with roster as (
    select * from {{ ref('stg_performance__roster') }}
),

years as (
    select * from {{ ref('int_evaluation_years') }}
),

units as (
    select * from {{ ref('stg_staffing__units') }}
),

final as (
    select
        roster.year,
        roster.unit_code,
        roster.group_code,
        roster.category,
        units.unit_name,
        units.unit_code is not null as in_register,
        years.as_of,
        years.parameter_year,
        years.stage,
        years.months_elapsed,
        roster.source_line as roster_line
    from roster
    inner join years on roster.year = years.year
    left join units on roster.unit_code = units.unit_code
)

select * from final
