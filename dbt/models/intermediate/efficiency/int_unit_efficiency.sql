-- Input–output efficiency of each roster unit (投入产出, docs/methodology.md §10, §11), published by
-- unit_efficiency and read by staffing_signals: establishment
-- use, over-establishment, leader posts, task load per post, score per post, spending per
-- completed weighted task and per point, workload saturation. Ratios are null when their
-- denominator is 0.
with scores as (
    select
        year,
        unit_code,
        total_score,
        establishment as establishment_jan1
    from {{ ref('int_unit_rankings') }}
),

establishment as (
    select
        year,
        unit_code,
        establishment_as_of
    from {{ ref('int_establishment_totals') }}
),

by_type as (
    select
        year,
        unit_code,
        sum(greatest(0, headcount - approved)) as over_establishment_total,
        sum(chief_posts) as chief_posts_approved,
        sum(chief_leaders) as chief_posts_filled,
        sum(deputy_posts) as deputy_posts_approved,
        sum(deputy_leaders) as deputy_posts_filled
    from {{ ref('int_posts_and_headcount_by_type') }}
    group by year, unit_code
),

measures as (
    select
        scores.year,
        scores.unit_code,
        scores.establishment_jan1,
        establishment.establishment_as_of,
        headcount.headcount,
        coalesce(by_type.over_establishment_total, 0) as over_establishment_total,
        coalesce(by_type.chief_posts_approved, 0) as chief_posts_approved,
        coalesce(by_type.chief_posts_filled, 0) as chief_posts_filled,
        coalesce(by_type.deputy_posts_approved, 0) as deputy_posts_approved,
        coalesce(by_type.deputy_posts_filled, 0) as deputy_posts_filled,
        coalesce(tasks.eligible_tasks, 0) as eligible_tasks,
        coalesce(tasks.key_tasks, 0) as key_tasks,
        coalesce(tasks.weighted_tasks, 0) as weighted_tasks,
        coalesce(tasks.weighted_completion, 0) as weighted_completion,
        coalesce(tasks.workload_person_months, 0) as workload_person_months,
        fiscal.executed as spend,
        cast(scores.total_score as double) as total_score
    from scores
    inner join establishment on scores.year = establishment.year and scores.unit_code = establishment.unit_code
    inner join {{ ref('int_headcount_on_as_of') }} as headcount
        on scores.year = headcount.year and scores.unit_code = headcount.unit_code
    inner join {{ ref('int_fiscal_composite') }} as fiscal
        on scores.year = fiscal.year and scores.unit_code = fiscal.unit_code
    left join by_type on scores.year = by_type.year and scores.unit_code = by_type.unit_code
    left join {{ ref('int_unit_task_totals') }} as tasks
        on scores.year = tasks.year and scores.unit_code = tasks.unit_code
),

final as (
    select
        year,
        unit_code,
        cast(establishment_jan1 as integer) as establishment_jan1,
        cast(establishment_as_of as integer) as establishment_as_of,
        cast(headcount as integer) as headcount,
        headcount / nullif(establishment_as_of, 0) as establishment_use,
        cast(over_establishment_total as integer) as over_establishment_total,
        cast(chief_posts_approved as integer) as chief_posts_approved,
        cast(chief_posts_filled as integer) as chief_posts_filled,
        cast(greatest(0, chief_posts_filled - chief_posts_approved) as integer) as chief_posts_excess,
        cast(deputy_posts_approved as integer) as deputy_posts_approved,
        cast(deputy_posts_filled as integer) as deputy_posts_filled,
        cast(greatest(0, deputy_posts_filled - deputy_posts_approved) as integer) as deputy_posts_excess,
        cast(eligible_tasks as integer) as eligible_tasks,
        weighted_tasks,
        weighted_tasks / nullif(establishment_as_of, 0) as tasks_per_post,
        cast(key_tasks as integer) as key_tasks,
        establishment_as_of / nullif(key_tasks, 0) as posts_per_key_task,
        total_score,
        10 * total_score / nullif(establishment_as_of, 0) as score_per_10_posts,
        spend,
        weighted_completion,
        spend / nullif(weighted_completion, 0) as spend_per_completed_weighted_task,
        spend / nullif(total_score, 0) as spend_per_point,
        workload_person_months,
        workload_person_months / nullif(12 * headcount, 0) as workload_saturation
    from measures
)

select * from final
