-- A failure means a unit's indicator and qualitative lines do not have maxima adding up to 100,
-- or a line gives more than its maximum or less than zero (docs/methodology.md §4, §6: weights after
-- redistribution; what the scorecard draws as "points of the maximum").
-- zh: 失败表示某单位各指标行和定性评议行的满分之和不是 100，或某行得分超过其满分或小于零（权重按重新分配后计）。
{{ config(meta={'dagster': {'ref': {'name': 'score_line_items'}}}) }}
with scored_lines as (
    select
        year,
        unit_code,
        line_no,
        points,
        max_points
    from {{ ref('score_line_items') }}
    where component in ('indicator', 'qualitative')
),

units as (
    select
        year,
        unit_code,
        sum(max_points) as maximum,
        count(*) filter (where points < -1e-9 or points > max_points + 1e-9) as lines_out_of_range
    from scored_lines
    group by year, unit_code
)

select
    year,
    unit_code,
    maximum,
    lines_out_of_range
from units
where maximum is null or abs(maximum - 100) > 1e-9 or lines_out_of_range > 0
