-- 效率前沿未评价原因 (label table for BI and the pages people read): from seed label_dea_exclusions.
with labels as (
    select * from {{ ref('label_dea_exclusions') }}
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
