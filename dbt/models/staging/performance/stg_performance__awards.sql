with source as (
    select * from {{ current_rows('performance', 'awards') }} as rows_in_force
),

final as (
    select
        award_id,
        {{ to_int('year') }} as year,
        unit_code,
        {{ enum_code('performance.awards', 'level') }} as level,
        {{ text('title') }} as title,
        {{ to_date('awarded_on') }} as awarded_on,
        _load_id as load_id,
        _line as source_line
    from source
)

select * from final
