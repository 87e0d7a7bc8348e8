-- Loads currently in force, one per table, with their row counts.
with loads as (
    select * from {{ source('ingest', 'loads') }}
),

current_loads as (
    select * from {{ source('ingest', 'current_loads') }}
),

final as (
    select
        loads.load_id,
        loads.delivery,
        loads.system,
        loads.table_name,
        loads.file,
        loads.file_sha256,
        loads.encoding,
        loads.loaded_at,
        current_loads.applied_at,
        loads.rows_read,
        loads.rows_accepted,
        loads.rows_rejected
    from loads
    inner join current_loads on loads.load_id = current_loads.load_id
)

select * from final
