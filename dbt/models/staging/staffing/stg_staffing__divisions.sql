with source as (
    select * from {{ current_rows('staffing', 'divisions') }} as rows_in_force
),

final as (
    select
        division_code,
        unit_code,
        division_name,
        {{ to_date('effective_from') }} as effective_from,
        {{ to_date('effective_to') }} as effective_to,
        _load_id as load_id,
        _line as source_line
    from source
)

select * from final
