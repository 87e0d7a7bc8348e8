-- What each roster unit's ranking rests on that it should not (docs/methodology.md §9), one row
-- per issue: int_unit_data_issues, published.
select
    year,
    unit_code,
    issue_no,
    issue,
    source_table,
    delivery,
    line,
    reason,
    detail,
    detail_en
from {{ ref('int_unit_data_issues') }}
