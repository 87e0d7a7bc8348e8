-- One row per staffing stint. Personal data never reach this model in clear: the register's
-- person id and ID number arrive as keyed hashes, and the name hash is dropped here.
with source as (
    select * from {{ current_rows('staffing', 'persons') }} as rows_in_force
),

final as (
    select
        person_id_hash as person_key,
        id_number_hash as identity_key,
        {{ enum_code('staffing.persons', 'gender') }} as gender,
        {{ to_date('birth_date') }} as birth_date,
        unit_code,
        {{ text('division_code') }} as division_code,
        {{ enum_code('staffing.persons', 'staffing_type') }} as staffing_type,
        {{ enum_code('staffing.persons', 'position_kind') }} as position_kind,
        {{ to_date('entry_date') }} as entry_date,
        {{ to_date('exit_date') }} as exit_date,
        {{ enum_code('staffing.persons', 'status') }} as status,
        _load_id as load_id,
        _line as source_line
    from source
)

select * from final
