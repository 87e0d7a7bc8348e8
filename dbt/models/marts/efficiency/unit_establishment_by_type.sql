-- Approved establishment and people in post per staffing type on as_of, and the excess
-- (超编, docs/methodology.md §10): a type with people and no approved posts counts entirely.
select
    year,
    unit_code,
    staffing_type,
    cast(approved as integer) as approved,
    cast(headcount as integer) as headcount,
    cast(greatest(0, headcount - approved) as integer) as over
from {{ ref('int_posts_and_headcount_by_type') }}
