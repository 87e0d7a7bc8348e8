-- Qualitative score Q_u (定性评议, docs/methodology.md §6, §11): the reviewer-group-weighted mean of the
-- groups' mean scores, weights renormalised over the groups with at least one score; null
-- scores are ignored; no reviews → 0 (and a data-quality warning).
with roster_units as (
    select
        year,
        unit_code
    from {{ ref('int_roster_units') }}
),

group_weights as (
    {{ methodology_rows('methodology_reviewer_groups') }}
),

group_means as (
    select
        roster_units.year,
        roster_units.unit_code,
        reviews.reviewer_group,
        avg(reviews.score order by reviews.reviewer_id) as mean_score,
        count(reviews.score) as scores
    from roster_units
    inner join {{ ref('stg_performance__reviews') }} as reviews
        on roster_units.year = reviews.year and roster_units.unit_code = reviews.unit_code
    where reviews.score is not null
    group by all
),

weighted as (
    select
        group_means.year,
        group_means.unit_code,
        sum(group_weights.weight * group_means.mean_score order by group_means.reviewer_group)
        / sum(group_weights.weight order by group_means.reviewer_group) as qualitative,
        sum(group_means.scores) as scores
    from group_means
    inner join group_weights
        on group_means.year = group_weights.year and group_means.reviewer_group = group_weights.reviewer_group
    group by all
),

final as (
    select
        roster_units.year,
        roster_units.unit_code,
        coalesce(weighted.qualitative, 0.0) as qualitative_achievement,
        coalesce(weighted.scores, 0) as review_scores,
        weighted.unit_code is not null as has_reviews
    from roster_units
    left join weighted on roster_units.year = weighted.year and roster_units.unit_code = weighted.unit_code
)

select * from final
