-- 通报事项类型名称 (label table for BI and the pages people read): from seed label_incident_kinds.
with labels as (
    select * from {{ ref('label_incident_kinds') }}
),

final as (
    select
        code,
        label_zh,
        label_en,
        sort_order
    from labels
)

select * from final
