-- 拒收原因名称 (label table for BI and the pages people read): from seed label_rejection_reasons.
with labels as (
    select * from {{ ref('label_rejection_reasons') }}
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
