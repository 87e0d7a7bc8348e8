-- A failure means a unit's published total is not round2 of the sum of its line items, or
-- its unrounded lines do not add up to its unrounded total (docs/methodology.md §11, Line items).
-- zh: 失败表示某单位发布的总分不等于其各得分行之和保留两位小数，或未取整的各行之和不等于未取整的总分。
{{ config(meta={'dagster': {'ref': {'name': 'score_line_items'}}}) }}
with lines as (
    select
        year,
        unit_code,
        sum(points) as line_total
    from {{ ref('score_line_items') }}
    group by year, unit_code
),

parts as (
    select
        year,
        unit_code,
        total_unrounded
    from {{ ref('int_unit_score_parts') }}
)

select
    scores.year,
    scores.unit_code,
    scores.total_score,
    lines.line_total,
    parts.total_unrounded
from {{ ref('unit_scores') }} as scores
left join lines on scores.year = lines.year and scores.unit_code = lines.unit_code
left join parts on scores.year = parts.year and scores.unit_code = parts.unit_code
where
    lines.line_total is null
    or abs(lines.line_total - parts.total_unrounded) > 1e-9
    or scores.total_score != {{ round2('lines.line_total') }}
