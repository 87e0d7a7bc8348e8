with source as (
    select * from {{ current_rows('finance', 'perf_goals') }} as rows_in_force
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
