-- Clues of false results (结果失实线索, docs/methodology.md §13): findings for offline verification,
-- never deductions. One row per (year, unit_code, task_id, clue); task_id is empty for the two
-- unit-level clues. Every comparison with a threshold (methodology_clues, by year) is strict; a
-- report's progress is its own (int_clue_reports), and only reports dated <= the year's
-- evaluation date of eligible tasks of roster units count.
with thresholds as (
    select
        year,
        max(threshold) filter (where clue = 'value_pct_mismatch') as value_pct_mismatch,
        max(threshold) filter (where clue = 'progress_decreased') as progress_decreased,
        max(threshold) filter (where clue = 'late_surge') as late_surge,
        max(threshold) filter (where clue = 'far_above_target') as far_above_target,
        max(threshold) filter (where clue = 'reviewer_gap') as reviewer_gap,
        max(threshold) filter (where clue = 'workload_over_capacity') as workload_over_capacity
    from ({{ methodology_rows('methodology_clues') }})
    group by year
),

reports as (
    select * from {{ ref('int_clue_reports') }}
),

-- value_pct_mismatch: any report of a quantified task giving both a value and a percentage
mismatched as (
    select
        reports.*,
        thresholds.value_pct_mismatch as threshold,
        100.0 * reports.actual_value / reports.target_value as value_pct,
        abs(100.0 * reports.actual_value / reports.target_value - reports.actual_pct) as difference
    from reports
    inner join thresholds on reports.year = thresholds.year
    where
        reports.is_quantified
        and reports.actual_value is not null
        and reports.actual_pct is not null
        and abs(100.0 * reports.actual_value / reports.target_value - reports.actual_pct)
        > thresholds.value_pct_mismatch
),

value_pct_mismatch as (
    select
        mismatched.year,
        mismatched.unit_code,
        mismatched.task_id,
        'value_pct_mismatch' as clue,
        to_json({
            'reports': list({
                'report': {{ report_key('mismatched') }},
                'actual_value': mismatched.actual_value,
                'target_value': mismatched.target_value,
                'value_pct': mismatched.value_pct,
                'actual_pct': mismatched.actual_pct,
                'difference': mismatched.difference
            } order by mismatched.quarter, mismatched.reported_on),
            'threshold': any_value(mismatched.threshold)
        }) as evidence,
        string_agg(
            '第' || mismatched.quarter || '季度报告（' || strftime(mismatched.reported_on, '%Y-%m-%d') || '）完成值 '
            || {{ clue_number('mismatched.actual_value') }} || ' / 目标值 '
            || {{ clue_number('mismatched.target_value') }} || ' = ' || {{ clue_number('mismatched.value_pct') }}
            || '%，填报进度 ' || {{ clue_number('mismatched.actual_pct') }}
            || '%，相差 ' || {{ clue_number('mismatched.difference') }} || ' 个百分点',
            '；' order by mismatched.quarter, mismatched.reported_on
        ) || '（阈值 ' || {{ clue_number('any_value(mismatched.threshold)') }} || '）' as detail
    from mismatched
    group by mismatched.year, mismatched.unit_code, mismatched.task_id
),

-- progress_decreased: a quarter's progress (its own latest report) below an earlier quarter's
quarters as (
    select * from reports
    where latest_of_quarter
),

comparisons as (
    select
        later.year,
        later.unit_code,
        later.task_id,
        later.quarter,
        later.reported_on,
        later.progress_pct,
        earlier.quarter as earlier_quarter,
        earlier.reported_on as earlier_reported_on,
        earlier.progress_pct as earlier_progress_pct,
        {{ report_key('later') }} as report,
        {{ report_key('earlier') }} as earlier_report,
        thresholds.progress_decreased as threshold,
        -- the earlier quarter compared with: the highest progress, the first such quarter on a tie
        row_number() over (
            partition by later.task_id, later.quarter order by earlier.progress_pct desc, earlier.quarter asc
        ) as rank_of_earlier
    from quarters as later
    inner join quarters as earlier on later.task_id = earlier.task_id and later.quarter > earlier.quarter
    inner join thresholds on later.year = thresholds.year
),

decreases as (
    select * from comparisons
    where rank_of_earlier = 1 and earlier_progress_pct - progress_pct > threshold
),

progress_decreased as (
    select
        decreases.year,
        decreases.unit_code,
        decreases.task_id,
        'progress_decreased' as clue,
        to_json({
            'decreases': list({
                'report': decreases.report,
                'progress_pct': decreases.progress_pct,
                'earlier_report': decreases.earlier_report,
                'earlier_progress_pct': decreases.earlier_progress_pct
            } order by decreases.quarter),
            'threshold': any_value(decreases.threshold)
        }) as evidence,
        string_agg(
            '第' || decreases.quarter || '季度进度 ' || {{ clue_number('decreases.progress_pct') }} || '% 低于第'
            || decreases.earlier_quarter || '季度的 ' || {{ clue_number('decreases.earlier_progress_pct') }} || '%',
            '；' order by decreases.quarter
        ) as detail
    from decreases
    group by decreases.year, decreases.unit_code, decreases.task_id
),

-- late_surge: Q4's progress minus Q3's, both from reports of their own
late_surge as (
    select
        q4.year,
        q4.unit_code,
        q4.task_id,
        'late_surge' as clue,
        to_json({
            'q3_report': {{ report_key('q3') }},
            'q3_progress_pct': q3.progress_pct,
            'q4_report': {{ report_key('q4') }},
            'q4_progress_pct': q4.progress_pct,
            'increase': q4.progress_pct - q3.progress_pct,
            'threshold': thresholds.late_surge
        }) as evidence,
        '第四季度进度 ' || {{ clue_number('q4.progress_pct') }} || '% 比第三季度的 '
        || {{ clue_number('q3.progress_pct') }} || '% 高 ' || {{ clue_number('q4.progress_pct - q3.progress_pct') }}
        || ' 个百分点（阈值 ' || {{ clue_number('thresholds.late_surge') }} || '）' as detail
    from quarters as q4
    inner join quarters as q3 on q4.task_id = q3.task_id and q3.quarter = 3
    inner join thresholds on q4.year = thresholds.year
    where q4.quarter = 4 and q4.progress_pct - q3.progress_pct > thresholds.late_surge
),

latest as (
    select * from reports
    where latest_of_task
),

-- far_above_target: the latest report of a quantified task far above its target
far_above_target as (
    select
        latest.year,
        latest.unit_code,
        latest.task_id,
        'far_above_target' as clue,
        to_json({
            'report': {{ report_key('latest') }},
            'actual_value': latest.actual_value,
            'target_value': latest.target_value,
            'ratio': latest.actual_value / latest.target_value,
            'threshold': thresholds.far_above_target
        }) as evidence,
        '最新报告（第' || latest.quarter || '季度，' || strftime(latest.reported_on, '%Y-%m-%d') || '）完成值 '
        || {{ clue_number('latest.actual_value') }} || ' 为目标值 ' || {{ clue_number('latest.target_value') }}
        || ' 的 ' || {{ clue_number('latest.actual_value / latest.target_value') }} || ' 倍（阈值 '
        || {{ clue_number('thresholds.far_above_target') }} || '）' as detail
    from latest
    inner join thresholds on latest.year = thresholds.year
    where latest.is_quantified and latest.actual_value / latest.target_value > thresholds.far_above_target
),

-- unverified_at_year_end: at year end, the latest report still pending
unverified_at_year_end as (
    select
        latest.year,
        latest.unit_code,
        latest.task_id,
        'unverified_at_year_end' as clue,
        to_json({
            'report': {{ report_key('latest') }},
            'verified_status': latest.verified_status,
            'stage': latest.stage
        }) as evidence,
        '年终考核时最新报告（第' || latest.quarter || '季度，' || strftime(latest.reported_on, '%Y-%m-%d')
        || '）仍未核验' as detail
    from latest
    where latest.stage = 'year_end' and latest.verified_status = 'pending'
),

-- reviewer_gap (unit level): leaders' mean against the mean of the other groups' means
group_means as (
    select
        roster_units.year,
        roster_units.unit_code,
        reviews.reviewer_group,
        avg(reviews.score order by reviews.reviewer_id) as mean_score,
        list(reviews.reviewer_id order by reviews.reviewer_id) as reviewer_ids
    from {{ ref('int_roster_units') }} as roster_units
    inner join {{ ref('stg_performance__reviews') }} as reviews
        on roster_units.year = reviews.year and roster_units.unit_code = reviews.unit_code
    where reviews.score is not null
    group by all
),

group_names as (
    {{ methodology_rows('methodology_reviewer_groups') }}
),

review_gaps as (
    select
        leaders.year,
        leaders.unit_code,
        leaders.mean_score as leaders_mean,
        leaders.reviewer_ids as leader_ids,
        avg(others.mean_score order by others.reviewer_group) as others_mean,
        map_from_entries(list((others.reviewer_group, others.mean_score) order by others.reviewer_group))
            as other_means,
        map_from_entries(list((others.reviewer_group, others.reviewer_ids) order by others.reviewer_group))
            as other_ids,
        string_agg(
            coalesce(group_names.name_zh, others.reviewer_group) || ' ' || {{ clue_number('others.mean_score') }},
            '、' order by others.reviewer_group
        ) as other_text
    from group_means as leaders
    inner join group_means as others
        on
            leaders.year = others.year
            and leaders.unit_code = others.unit_code
            and others.reviewer_group != 'leaders'
    left join group_names
        on others.year = group_names.year and others.reviewer_group = group_names.reviewer_group
    where leaders.reviewer_group = 'leaders'
    group by all
),

reviewer_gap as (
    select
        review_gaps.year,
        review_gaps.unit_code,
        '' as task_id,
        'reviewer_gap' as clue,
        to_json({
            'reviews': { 'leaders': review_gaps.leader_ids, 'others': review_gaps.other_ids },
            'leaders_mean': review_gaps.leaders_mean,
            'other_means': review_gaps.other_means,
            'others_mean': review_gaps.others_mean,
            'gap': review_gaps.leaders_mean - review_gaps.others_mean,
            'threshold': thresholds.reviewer_gap
        }) as evidence,
        '领导评议均分 ' || {{ clue_number('review_gaps.leaders_mean') }} || ' 比其他评议主体均分的平均 '
        || {{ clue_number('review_gaps.others_mean') }} || '（' || review_gaps.other_text || '）高 '
        || {{ clue_number('review_gaps.leaders_mean - review_gaps.others_mean') }} || ' 分（阈值 '
        || {{ clue_number('thresholds.reviewer_gap') }} || '）' as detail
    from review_gaps
    inner join thresholds on review_gaps.year = thresholds.year
    where review_gaps.leaders_mean - review_gaps.others_mean > thresholds.reviewer_gap
),

-- workload_over_capacity (unit level): planned person-months against the people in post
workloads as (
    select
        year,
        unit_code,
        sum(coalesce(workload_person_months, 0) order by task_id) as workload_person_months,
        list(task_id order by task_id) as task_ids
    from {{ ref('int_tasks_classified') }}
    where status = 'eligible'
    group by all
),

workload_over_capacity as (
    select
        workloads.year,
        workloads.unit_code,
        '' as task_id,
        'workload_over_capacity' as clue,
        to_json({
            'tasks': workloads.task_ids,
            'workload_person_months': workloads.workload_person_months,
            'headcount': headcount.headcount,
            'capacity_person_months': thresholds.workload_over_capacity * 12 * headcount.headcount,
            'threshold': thresholds.workload_over_capacity
        }) as evidence,
        '纳入计分任务工作量合计 ' || {{ clue_number('workloads.workload_person_months') }} || ' 人月，超过 '
        || {{ clue_number('thresholds.workload_over_capacity') }} || ' × 12 × 在编 ' || headcount.headcount
        || ' 人 = ' || {{ clue_number('thresholds.workload_over_capacity * 12 * headcount.headcount') }}
        || ' 人月' as detail
    from workloads
    inner join {{ ref('int_headcount_on_as_of') }} as headcount
        on workloads.year = headcount.year and workloads.unit_code = headcount.unit_code
    inner join thresholds on workloads.year = thresholds.year
    where workloads.workload_person_months > thresholds.workload_over_capacity * 12 * headcount.headcount
),

clues as (
    select * from value_pct_mismatch
    union all by name
    select * from progress_decreased
    union all by name
    select * from late_surge
    union all by name
    select * from far_above_target
    union all by name
    select * from unverified_at_year_end
    union all by name
    select * from reviewer_gap
    union all by name
    select * from workload_over_capacity
),

final as (
    select
        cast(year as integer) as year,
        unit_code,
        task_id,
        clue,
        cast(evidence as varchar) as evidence,
        detail
    from clues
)

select * from final
