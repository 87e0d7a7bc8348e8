with source as (
    select * from {{ current_rows('performance', 'roster') }} as rows_in_force
),

final as (
    select
        {{ to_int('year') }} as year,
        unit_code,
        group_code,
        {{ enum_code('performance.roster', 'category') }} as category,
        _load_id as load_id,
        _line as source_line
    from source
)

select * from final
