with source as (
    select * from {{ current_rows('performance', 'duties') }} as rows_in_force
),

final as (
    select
        unit_code,
        duty_code,
        duty_text,
        {{ to_bool('is_core') }} as is_core,
        {{ to_date('effective_from') }} as effective_from,
        {{ to_date('effective_to') }} as effective_to,
        _load_id as load_id,
        _line as source_line
    from source
)

select * from final
