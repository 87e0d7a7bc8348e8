-- 编制管理信号名称 (label table for BI and the pages people read): from seed label_signals.
with labels as (
    select * from {{ ref('label_signals') }}
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
