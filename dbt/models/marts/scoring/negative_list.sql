-- 负面清单 (docs/methodology.md §2, §7): tasks outside the unit's statutory duties (越位, removed from
-- scoring) and core duties that no eligible task covers (缺位).
with outside as (
    select
        year,
        unit_code,
        task_id as item_key,
        'outside_statutory_duty' as kind,
        title || case
            when duty_code is null then '（未对应职责）'
            else '（所列职责 ' || duty_code || ' 不在本单位三定职责内）'
        end as detail
    from {{ ref('int_tasks_classified') }}
    where status = 'outside_statutory_duty'
),

missing as (
    select
        year,
        unit_code,
        duty_code as item_key,
        'missing_core_duty' as kind,
        detail
    from {{ ref('int_uncovered_core_duties') }}
),

final as (
    select * from outside
    union all
    select * from missing
)

select * from final
