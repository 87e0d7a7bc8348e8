-- 缺位 (docs/methodology.md §2, §7): core statutory duties of a roster unit in force on 1 January that
-- no eligible task of the year covers. The one list behind the missing_core_duty deductions
-- and the negative list's missing_core_duty items.
with duties as (
    select * from {{ ref('int_duties_in_force') }}
),

eligible_tasks as (
    select
        year,
        unit_code,
        duty_code
    from {{ ref('int_tasks_classified') }}
    where status = 'eligible'
),

final as (
    select
        duties.year,
        duties.unit_code,
        duties.duty_code,
        duties.duty_text,
        '核心职责无对应任务: ' || duties.duty_text as detail
    from duties
    where
        duties.is_core
        and not exists (
            select 1 from eligible_tasks
            where
                eligible_tasks.year = duties.year
                and eligible_tasks.unit_code = duties.unit_code
                and eligible_tasks.duty_code = duties.duty_code
        )
)

select * from final
