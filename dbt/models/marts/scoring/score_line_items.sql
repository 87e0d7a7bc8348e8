-- Each unit's score line by line; the lines of a unit add up to its unrounded total, and
-- total_score = round2(sum of points) (docs/methodology.md §11).
select
    year,
    unit_code,
    line_no,
    component,
    code,
    item_key,
    points,
    max_points,
    rule,
    source_keys
from {{ ref('int_score_line_items') }}
