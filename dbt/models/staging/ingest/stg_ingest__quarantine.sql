-- Violations of the loads currently in force (older loads' quarantine stays in raw for audit).
with quarantine as (
    select * from {{ source('ingest', 'quarantine') }}
),

current_loads as (
    select * from {{ source('ingest', 'current_loads') }}
),

final as (
    select
        quarantine.load_id,
        quarantine.delivery,
        quarantine.system,
        quarantine.table_name,
        quarantine.file,
        quarantine.line,
        quarantine.column_name,
        quarantine.value,
        quarantine.reason
    from quarantine
    inner join current_loads on quarantine.load_id = current_loads.load_id
)

select * from final
