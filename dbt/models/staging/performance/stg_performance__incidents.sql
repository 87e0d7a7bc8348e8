-- The free-text note may name people: it arrives hashed and is not carried past raw.
with source as (
    select * from {{ source('performance', 'incidents') }}
    where {{ current_load('performance', 'incidents') }}
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
