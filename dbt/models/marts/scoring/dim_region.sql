-- Administrative regions (GB/T 2260) by code: the names of the evaluating bodies (group_code of
-- the rankings) and of the units' regions, for readers and the office workbook.
with regions as (
    select * from {{ ref('reference_regions') }}
),

final as (
    select
        region_code,
        region_name,
        level,
        parent_code
    from regions
)

select * from final
