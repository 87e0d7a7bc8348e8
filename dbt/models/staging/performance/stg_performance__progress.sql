with source as (
    select * from {{ current_rows('performance', 'progress') }} as rows_in_force
),

final as (
    select
        task_id,
        {{ to_int('quarter') }} as quarter,
        {{ to_date('reported_on') }} as reported_on,
        {{ to_double('actual_value') }} as actual_value,
        {{ to_double('actual_pct') }} as actual_pct,
        {{ enum_code('performance.progress', 'verified_status') }} as verified_status,
        _load_id as load_id,
        _line as source_line
    from source
)

select * from final
