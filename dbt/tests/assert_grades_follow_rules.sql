-- A failure means a grade contradicts docs/methodology.md §9: vetoed or under the grade-3 threshold
-- but not grade 3; grade 1 under its threshold or vetoed; more grade-1 units than the share
-- allows; or a better-ranked eligible unit left out of grade 1 while a worse one is in. The rules
-- apply to every year-end ranking (provisional or final); an interim one has no grade at all.
-- zh: 失败表示某个等次与评定规则不符：一票否决或总分低于三等线却不是三等；一等单位低于一等线或被否决；
-- 一等单位多于名额比例；或排名靠前的合格单位未评为一等而靠后的却评为一等。规则适用于每个年终排名（暂定或最终）；
-- 阶段性排名不评定等次。
{{ config(meta={'dagster': {'ref': {'name': 'unit_scores'}}}) }}
with scores as (
    select
        scores.*,
        years.grade1_share,
        years.grade1_min_total,
        years.grade3_below_total
    from {{ ref('unit_scores') }} as scores
    inner join {{ ref('int_evaluation_years') }} as years on scores.year = years.year
),

per_group as (
    select
        year,
        group_code,
        category,
        count(*) filter (where grade = 1) as grade1_units,
        any_value(grade1_slots) as grade1_allowed,
        max(rank_in_category) filter (where grade = 1) as worst_grade1_rank
    from scores
    group by year, group_code, category
)

select
    scores.year,
    scores.unit_code,
    'grade 3 expected' as problem
from scores
where (scores.vetoed or scores.total_score < scores.grade3_below_total) and scores.grade != 3
union all
select
    scores.year,
    scores.unit_code,
    'grade 1 not allowed' as problem
from scores
where scores.grade = 1 and (scores.vetoed or scores.total_score < scores.grade1_min_total)
union all
select
    year,
    group_code || '/' || category as unit_code,
    'too many grade-1 units' as problem
from per_group
where grade1_units > grade1_allowed
union all
select
    scores.year,
    scores.unit_code,
    'skipped for grade 1' as problem
from scores
inner join per_group
    on
        scores.year = per_group.year
        and scores.group_code = per_group.group_code
        and scores.category = per_group.category
where
    scores.grade != 1 and not scores.vetoed and scores.total_score >= scores.grade1_min_total
    and per_group.grade1_units < per_group.grade1_allowed
union all
select
    scores.year,
    scores.unit_code,
    'grade 1 out of rank order' as problem
from scores
inner join per_group
    on
        scores.year = per_group.year
        and scores.group_code = per_group.group_code
        and scores.category = per_group.category
where
    scores.grade = 2 and not scores.vetoed and scores.total_score >= scores.grade1_min_total
    and scores.rank_in_category < per_group.worst_grade1_rank
union all
select
    scores.year,
    scores.unit_code,
    'year-end ranking without a grade' as problem
from scores
where scores.stage = 'year_end' and (scores.grade is null or scores.grade1_slots is null)
union all
select
    scores.year,
    scores.unit_code,
    'interim ranking with a grade' as problem
from scores
where scores.stage != 'year_end' and (scores.grade is not null or scores.grade1_slots is not null)
