-- A failure means ranks within a category group or a group are not exactly 1..n (no gaps,
-- no ties; docs/methodology.md §9).
-- zh: 失败表示某类别或考核组内的名次不是从 1 起的连续整数（有空缺或并列）。
{{ config(meta={'dagster': {'ref': {'name': 'unit_scores'}}}) }}
with categories as (
    select
        year,
        group_code,
        category,
        count(*) as n,
        min(rank_in_category) as low,
        max(rank_in_category) as high,
        count(distinct rank_in_category) as distinct_ranks
    from {{ ref('unit_scores') }}
    group by year, group_code, category
),

groups as (
    select
        year,
        group_code,
        count(*) as n,
        min(rank_overall) as low,
        max(rank_overall) as high,
        count(distinct rank_overall) as distinct_ranks
    from {{ ref('unit_scores') }}
    group by year, group_code
)

select
    'category' as scope,
    year,
    group_code,
    n,
    low,
    high,
    distinct_ranks
from categories
where low != 1 or high != n or distinct_ranks != n
union all
select
    'group' as scope,
    year,
    group_code,
    n,
    low,
    high,
    distinct_ranks
from groups
where low != 1 or high != n or distinct_ranks != n
