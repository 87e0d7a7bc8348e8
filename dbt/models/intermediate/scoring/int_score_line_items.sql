-- The score of each roster unit as signed lines that add up exactly to its unrounded total
-- (docs/methodology.md §11, Line items): one per applicable indicator, the qualitative line, the bonus
-- (when > 0), one per deduction item (lines cut by a cap keep their row), and floor_at_zero
-- when the floor applies. Each line names its rule and the source keys behind it.
with parts as (
    select * from {{ ref('int_unit_score_parts') }}
),

indicator_lines as (
    select
        achievements.year,
        achievements.unit_code,
        'indicator' as component,
        achievements.indicator_code as code,
        achievements.indicator_order as sort_order,
        '' as item_key,
        achievements.points,
        (1 - achievements.qualitative_share) * achievements.effective_weight as max_points,
        case achievements.indicator_code
            when 'key_work' then '§4 (1 − q)·W·min(1, Σ d·c / N_u)'
            when 'fiscal' then '§5 (1 − q)·W·fiscal composite'
            when 'excellence' then '§4 (1 − q)·W·min(1, Σ award points)'
            else '§4 (1 − q)·W·Σ d·c / Σ d'
        end as rule,
        case achievements.indicator_code
            when 'fiscal'
                then json_object(
                    'finance.budget',
                    json_object('unit_code', achievements.unit_code, 'fiscal_year', achievements.year),
                    'finance.execution', json_object(
                        'unit_code', achievements.unit_code,
                        'fiscal_year', json_array(achievements.year, achievements.year - 1),
                        'months', '1..' || roster_units.months_elapsed
                    ),
                    'finance.perf_goals',
                    json_object('unit_code', achievements.unit_code, 'fiscal_year', achievements.year),
                    'staffing.establishment',
                    json_object('unit_code', achievements.unit_code, 'on', roster_units.as_of),
                    'staffing.persons',
                    json_object('unit_code', achievements.unit_code, 'in_post_on', roster_units.as_of)
                )
            when 'excellence' then json_object('performance.awards', to_json(achievements.award_ids))
            else json_object('performance.tasks', to_json(achievements.task_ids))
        end as source_keys
    from {{ ref('int_indicator_achievements') }} as achievements
    inner join {{ ref('int_roster_units') }} as roster_units
        on achievements.year = roster_units.year and achievements.unit_code = roster_units.unit_code
    where achievements.applicable
),

qualitative_lines as (
    select
        year,
        unit_code,
        'qualitative' as component,
        'qualitative' as code,
        100 as sort_order,
        '' as item_key,
        qualitative_share * qualitative_score as points,
        qualitative_share * 100.0 as max_points,
        '§6 q·Q_u' as rule,
        json_object('performance.reviews', json_object('unit_code', unit_code, 'year', year)) as source_keys
    from parts
),

bonus_lines as (
    select
        parts.year,
        parts.unit_code,
        'bonus' as component,
        'voluntary_reduction' as code,
        200 as sort_order,
        '' as item_key,
        parts.bonus as points,
        cast(null as double) as max_points,
        '§7 min(cap, per post · R_u)' as rule,
        json_object(
            'staffing.establishment',
            to_json(list(
                reductions.unit_code || '+' || reductions.staffing_type || '+' || reductions.effective_from
                order by reductions.effective_from
            )),
            'doc_no', to_json(list(reductions.doc_no order by reductions.effective_from))
        ) as source_keys
    from parts
    inner join {{ ref('int_voluntary_establishment_cuts') }} as reductions
        on parts.year = reductions.year and parts.unit_code = reductions.unit_code
    where parts.bonus > 0
    group by parts.year, parts.unit_code, parts.bonus
),

deduction_lines as (
    select
        year,
        unit_code,
        'deduction' as component,
        reason as code,
        300 + reason_order as sort_order,
        item_key,
        -cast(points as double) as points,
        cast(null as double) as max_points,
        '§7 ' || reason || ': ' || coalesce(cast(points_each as double) || ' each', 'the incident''s own points')
        || coalesce(', cap ' || cast(cap as double) || ' (' || cap_group || ')', '') as rule,
        cast(source_keys as json) as source_keys
    from {{ ref('int_deduction_lines') }}
),

floor_lines as (
    select
        year,
        unit_code,
        'floor' as component,
        'floor_at_zero' as code,
        900 as sort_order,
        '' as item_key,
        -(base_score + bonus - deductions) as points,
        cast(null as double) as max_points,
        '§7 total = max(0, base + bonus − deductions)' as rule,
        json_object() as source_keys
    from parts
    where base_score + bonus - deductions < 0
),

lines as (
    select * from indicator_lines
    union all
    select * from qualitative_lines
    union all
    select * from bonus_lines
    union all
    select * from deduction_lines
    union all
    select * from floor_lines
),

final as (
    select
        year,
        unit_code,
        cast(row_number() over (partition by year, unit_code order by sort_order, item_key) as integer) as line_no,
        component,
        code,
        item_key,
        points,
        max_points,
        rule,
        cast(source_keys as varchar) as source_keys
    from lines
)

select * from final
