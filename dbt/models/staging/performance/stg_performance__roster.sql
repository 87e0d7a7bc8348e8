with source as (
    select * from {{ source('performance', 'roster') }}
    where {{ current_load('performance', 'roster') }}
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
