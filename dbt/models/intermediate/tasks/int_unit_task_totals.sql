-- Per-unit totals over the eligible tasks of each year (docs/methodology.md §10, §11, §12): the
-- counts, Σ d_t, Σ d_t·c_t (c_t on as_of, int_task_progress) and Σ workload (null = 0). One row
-- per unit with an eligible task; read by int_unit_efficiency and int_dea_measures, which count a
-- unit without one as 0. Sums in task order, so a total is the same float whoever reads it.
with eligible as (
    select
        classified.year,
        classified.unit_code,
        classified.task_id,
        classified.indicator_code,
        classified.difficulty,
        classified.workload_person_months,
        progress.completion
    from {{ ref('int_tasks_classified') }} as classified
    inner join {{ ref('int_task_progress') }} as progress on classified.task_id = progress.task_id
    where classified.status = 'eligible'
),

final as (
    select
        year,
        unit_code,
        count(*) as eligible_tasks,
        count(*) filter (where indicator_code = 'key_work') as key_tasks,
        sum(difficulty order by task_id) as weighted_tasks,
        sum(difficulty * completion order by task_id) as weighted_completion,
        sum(coalesce(workload_person_months, 0) order by task_id) as workload_person_months
    from eligible
    group by year, unit_code
)

select * from final
