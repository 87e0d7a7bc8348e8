with source as (
    select * from {{ source('finance', 'perf_goals') }}
    where {{ current_load('finance', 'perf_goals') }}
),

final as (
    select
        {{ to_int('fiscal_year') }} as fiscal_year,
        unit_code,
        goal_id,
        {{ text('goal_text') }} as goal_text,
        {{ to_bool('met') }} as met,
        _load_id as load_id,
        _line as source_line
    from source
)

select * from final
