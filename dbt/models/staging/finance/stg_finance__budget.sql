with source as (
    select * from {{ current_rows('finance', 'budget') }} as rows_in_force
),

final as (
    select
        {{ to_int('fiscal_year') }} as fiscal_year,
        unit_code,
        func_code,
        econ_code,
        {{ to_money('budget_amount') }} as budget_amount,
        {{ to_money('adjusted_amount') }} as adjusted_amount,
        _load_id as load_id,
        _line as source_line
    from source
)

select * from final
