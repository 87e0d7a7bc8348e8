with source as (
    select * from {{ current_rows('staffing', 'units') }} as rows_in_force
),

final as (
    select
        unit_code,
        unit_name,
        region_code,
        {{ enum_code('staffing.units', 'admin_level') }} as admin_level,
        {{ enum_code('staffing.units', 'unit_type') }} as unit_type,
        {{ text('parent_unit_code') }} as parent_unit_code,
        {{ to_date('established_on') }} as established_on,
        {{ to_date('abolished_on') }} as abolished_on,
        _load_id as load_id,
        _line as source_line
    from source
)

select * from final
