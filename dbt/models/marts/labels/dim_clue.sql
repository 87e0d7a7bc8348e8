-- 结果失实线索名称 (label table for BI and the pages people read): from seed label_clues.
with labels as (
    select * from {{ ref('label_clues') }}
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
