with source as (
    select * from {{ source('finance', 'budget') }}
    where {{ current_load('finance', 'budget') }}
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
