-- Staffing signals fed back into staffing management (docs/methodology.md §10, §11), one row per unit
-- and signal that applies: favour (倾斜), increase_candidate (with suggested extra posts),
-- review_candidate, compliance; each with the figures that triggered it, in Chinese (the workbook and
-- the scorecard show them), the grade by its label (dim_grade).
with efficiency as (
    select
        unit_efficiency.*,
        years.saturation_increase_above,
        years.saturation_review_below
    from {{ ref('int_unit_efficiency') }} as unit_efficiency
    inner join {{ ref('int_evaluation_years') }} as years on unit_efficiency.year = years.year
),

scores as (
    select
        rankings.year,
        rankings.unit_code,
        rankings.grade,
        grade_labels.label_zh as grade_label
    from {{ ref('int_unit_rankings') }} as rankings
    left join {{ ref('dim_grade') }} as grade_labels on rankings.grade = grade_labels.code
),

national_awards as (
    select
        year,
        unit_code,
        string_agg(award_id, '、' order by award_id) as award_ids
    from {{ ref('stg_performance__awards') }}
    where level = 'national'
    group by year, unit_code
),

long_term as (
    select
        year,
        unit_code,
        string_agg(task_id, '、' order by task_id) as task_ids
    from {{ ref('int_tasks_classified') }}
    where status = 'eligible' and origin = 'new_long_term'
    group by year, unit_code
),

signals as (
    select
        efficiency.year,
        efficiency.unit_code,
        'favour' as signal,
        null as suggested_extra_posts,
        concat_ws(
            '；',
            case when scores.grade = 1 then '评为' || scores.grade_label end,
            case when national_awards.award_ids is not null then '获国家级奖励 ' || national_awards.award_ids end
        ) as detail
    from efficiency
    inner join scores on efficiency.year = scores.year and efficiency.unit_code = scores.unit_code
    left join national_awards
        on efficiency.year = national_awards.year and efficiency.unit_code = national_awards.unit_code
    where scores.grade = 1 or national_awards.award_ids is not null

    union all

    select
        efficiency.year,
        efficiency.unit_code,
        'increase_candidate' as signal,
        cast(ceil((efficiency.workload_person_months - 12 * efficiency.headcount) / 12.0) as integer)
            as suggested_extra_posts,
        '工作饱满度 '
        || round(efficiency.workload_saturation, 3)
        || ' 高于 '
        || efficiency.saturation_increase_above
        || '（' || {{ clue_number('efficiency.workload_person_months') }} || ' 人月，在编 ' || efficiency.headcount
        || ' 人）；新增长期任务 ' || long_term.task_ids as detail
    from efficiency
    inner join long_term on efficiency.year = long_term.year and efficiency.unit_code = long_term.unit_code
    where efficiency.workload_saturation > efficiency.saturation_increase_above

    union all

    select
        year,
        unit_code,
        'review_candidate' as signal,
        null as suggested_extra_posts,
        '工作饱满度 ' || round(workload_saturation, 3) || ' 低于 ' || saturation_review_below || '（'
        || {{ clue_number('workload_person_months') }}
        || ' 人月，在编 ' || headcount || ' 人）' as detail
    from efficiency
    where workload_saturation < saturation_review_below

    union all

    select
        year,
        unit_code,
        'compliance' as signal,
        null as suggested_extra_posts,
        concat_ws(
            '；',
            case when over_establishment_total > 0 then '超编 ' || over_establishment_total || ' 人' end,
            case
                when chief_posts_excess > 0
                    then '超职数配备正职领导（实配 ' || chief_posts_filled || ' 名，核定 ' || chief_posts_approved || ' 名）'
            end,
            case
                when deputy_posts_excess > 0
                    then '超职数配备副职领导（实配 ' || deputy_posts_filled || ' 名，核定 ' || deputy_posts_approved || ' 名）'
            end
        ) as detail
    from efficiency
    where over_establishment_total > 0 or chief_posts_excess > 0 or deputy_posts_excess > 0
),

final as (
    select
        year,
        unit_code,
        signal,
        cast(suggested_extra_posts as integer) as suggested_extra_posts,
        detail
    from signals
)

select * from final
