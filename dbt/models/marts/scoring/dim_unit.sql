-- Every unit the register or a roster knows, with its latest roster category and group.
with units as (
    select * from {{ ref('stg_staffing__units') }}
),

roster as (
    select
        unit_code,
        arg_max(category, year) as latest_category,
        arg_max(group_code, year) as latest_group_code,
        max(year) as latest_roster_year
    from {{ ref('stg_performance__roster') }}
    group by unit_code
),

final as (
    select
        coalesce(units.unit_code, roster.unit_code) as unit_code,
        units.unit_name,
        units.region_code,
        units.admin_level,
        units.unit_type,
        units.parent_unit_code,
        units.established_on,
        units.abolished_on,
        roster.latest_category,
        roster.latest_group_code,
        roster.latest_roster_year,
        units.unit_code is not null as in_register
    from units
    full outer join roster on units.unit_code = roster.unit_code
)

select * from final
