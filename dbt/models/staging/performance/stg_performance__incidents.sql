-- The free-text note may name people: it arrives hashed and is not carried past raw.
with source as (
    select * from {{ current_rows('performance', 'incidents') }} as rows_in_force
),

final as (
    select
        incident_id,
        {{ to_int('year') }} as year,
        unit_code,
        {{ enum_code('performance.incidents', 'kind') }} as kind,
        coalesce({{ to_double('points') }}, 0) as points,
        _load_id as load_id,
        _line as source_line
    from source
)

select * from final
