with source as (
    select * from {{ source('performance', 'reviews') }}
    where {{ current_load('performance', 'reviews') }}
),

final as (
    select
        {{ to_int('year') }} as year,
        unit_code,
        reviewer_group,
        reviewer_id,
        {{ to_double('score') }} as score,
        _load_id as load_id,
        _line as source_line
    from source
)

select * from final
