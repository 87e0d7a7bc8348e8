-- Contract violations of the loads in force (docs/sources.md, Bad input); personal values appear
-- only as keyed hashes, and the rejected rows themselves stay in raw.quarantine_rows.
select
    load_id,
    delivery,
    system,
    table_name,
    file,
    line,
    column_name,
    value,
    reason
from {{ ref('stg_ingest__quarantine') }}
