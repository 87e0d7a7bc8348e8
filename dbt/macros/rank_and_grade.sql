{#- Ranking and grades of docs/methodology.md §9 and §11, the one place the rules live: int_unit_rankings
    ranks the totals with it (published by unit_scores), grade_stability every resampled draw (§14).
    `relation` has year, group_code, category, unit_code, total_score (rounded), s_key_work,
    establishment, vetoed, grade1_share, grade1_min_total, grade3_below_total; `by` lists columns
    that split the ranking further (a draw). Adds rank_in_category, rank_overall, units_in_category,
    grade1_slots and grade. Order within the group: total desc, key-work achievement desc
    (unrounded), establishment asc (the leaner unit first), unit_code asc; ranks 1..n without ties.
    Grade 1: the first floor(share · n) units in rank order among those not vetoed with
    total ≥ the minimum (n counts vetoed units); grade 3: vetoed or total under the threshold. -#}
{% macro rank_and_grade(relation, by=[]) -%}
    {%- set split = (by | join(', ')) ~ (', ' if by else '') -%}
    {%- set order = 'total_score desc, s_key_work desc, establishment asc, unit_code asc' -%}
    select
        ranked.*,
        case
            when ranked.vetoed or ranked.total_score < ranked.grade3_below_total then 3
            when
                not ranked.vetoed and ranked.total_score >= ranked.grade1_min_total
                and ranked.grade1_candidate_rank <= ranked.grade1_slots
                then 1
            else 2
        end as grade
    from (
        select
            positioned.*,
            -- how many grade-1 candidates (not vetoed, total at least the minimum) rank at or above it
            sum(
                case when not positioned.vetoed and positioned.total_score >= positioned.grade1_min_total then 1 else 0 end
            ) over (
                partition by {{ split }}positioned.year, positioned.group_code, positioned.category
                order by positioned.rank_in_category
                rows between unbounded preceding and current row
            ) as grade1_candidate_rank
        from (
            select
                graded_input.*,
                row_number() over (
                    partition by {{ split }}year, group_code, category order by {{ order }}
                ) as rank_in_category,
                row_number() over (partition by {{ split }}year, group_code order by {{ order }}) as rank_overall,
                count(*) over (partition by {{ split }}year, group_code, category) as units_in_category,
                -- grade-1 places of the category group: floor(share · n)
                floor(
                    cast(graded_input.grade1_share as decimal(9, 4))
                    * count(*) over (partition by {{ split }}year, group_code, category)
                ) as grade1_slots
            from {{ relation }} as graded_input
        ) as positioned
    ) as ranked
{%- endmacro %}
