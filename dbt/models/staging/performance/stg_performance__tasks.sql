with source as (
    select * from {{ current_rows('performance', 'tasks') }} as rows_in_force
),

final as (
    select
        task_id,
        {{ to_int('year') }} as year,
        unit_code,
        {{ enum_code('performance.tasks', 'indicator_code') }} as indicator_code,
        title,
        {{ text('duty_code') }} as duty_code,
        {{ text('division_code') }} as division_code,
        {{ to_double('target_value') }} as target_value,
        {{ text('measure_unit') }} as measure_unit,
        {{ to_double('difficulty') }} as difficulty,
        {{ to_double('workload_person_months') }} as workload_person_months,
        {{ to_double('milestone_q1') }} as milestone_q1,
        {{ to_double('milestone_q2') }} as milestone_q2,
        {{ to_double('milestone_q3') }} as milestone_q3,
        {{ to_double('milestone_q4') }} as milestone_q4,
        {{ enum_code('performance.tasks', 'origin') }} as origin,
        {{ to_bool('approved') }} as approved,
        _load_id as load_id,
        _line as source_line
    from source
)

select * from final
