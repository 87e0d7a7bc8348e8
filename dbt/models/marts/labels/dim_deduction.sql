-- 扣分原因名称 (label table for BI and the pages people read): from dim_score_line (a seed).
with labels as (
    select * from {{ ref('dim_score_line') }}
),

final as (
    select
        code,
        label_zh,
        label_en,
        sort_order
    from labels
    where component = 'deduction'
)

select * from final
