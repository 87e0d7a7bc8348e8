-- 扣分原因名称 (label table for BI and the pages people read): from seed label_line_codes.
with labels as (
    select * from {{ ref('label_line_codes') }}
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
