-- The loads in force behind this publication, one per source table: which delivery and file each
-- table's rows come from, when it was loaded, and its rows read, accepted and rejected. The
-- office workbook's cover sheet and BI name the deliveries from it.
with loads as (
    select * from {{ ref('stg_ingest__loads') }}
),

final as (
    select
        system,
        table_name,
        delivery,
        file,
        file_sha256,
        loaded_at,
        rows_read,
        rows_accepted,
        rows_rejected
    from loads
)

select * from final
