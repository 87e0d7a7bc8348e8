with source as (
    select * from {{ current_rows('performance', 'reviews') }} as rows_in_force
),

final as (
    select
        {{ to_int('year') }} as year,
        unit_code,
        {{ enum_code('performance.reviews', 'reviewer_group') }} as reviewer_group,
        reviewer_id,
        {{ to_double('score') }} as score,
        _load_id as load_id,
        _line as source_line
    from source
)

select * from final
