-- 红黄绿灯名称 (label table for BI and the pages people read): from seed label_lights.
with labels as (
    select * from {{ ref('label_lights') }}
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
