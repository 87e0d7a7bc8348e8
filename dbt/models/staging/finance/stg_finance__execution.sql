with source as (
    select * from {{ current_rows('finance', 'execution') }} as rows_in_force
),

final as (
    select
        {{ to_int('fiscal_year') }} as fiscal_year,
        {{ to_int('month') }} as month,
        unit_code,
        func_code,
        econ_code,
        {{ to_money('amount') }} as amount,
        _load_id as load_id,
        _line as source_line
    from source
)

select * from final
