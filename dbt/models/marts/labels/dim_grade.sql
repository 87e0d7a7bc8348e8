-- 等次名称 (label table for BI and the pages people read): from seed label_grades.
with labels as (
    select * from {{ ref('label_grades') }}
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
