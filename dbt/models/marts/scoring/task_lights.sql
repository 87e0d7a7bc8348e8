-- Red/yellow/green light of each eligible task for each quarter ended by as_of (docs/methodology.md §8).
select
    year,
    task_id,
    cast(quarter as integer) as quarter,
    unit_code,
    planned,
    actual,
    gap,
    light,
    reason
from {{ ref('int_task_lights') }}
