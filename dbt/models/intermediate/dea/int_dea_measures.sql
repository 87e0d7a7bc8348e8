-- The measures the efficiency frontier may use (docs/methodology.md §12), for every unit of a
-- year-end ranking, one row per configured measure (int_dea_configuration), unrounded; null when
-- unknown. Posts E_u on 1 January, spend Σ executed of the year (months 1..12 at year end),
-- weighted completed work Σ d_t·c_t and Σ d_t over eligible tasks (int_unit_task_totals), Q_u, and the
-- register's figures.
with units as (
    select
        year,
        unit_code,
        group_code,
        category
    from {{ ref('int_roster_units') }}
    where stage = 'year_end'
),

wide as (
    select
        units.year,
        units.unit_code,
        units.group_code,
        units.category,
        cast(establishment.establishment_jan1 as double) as establishment,
        cast(establishment.establishment_as_of as double) as establishment_as_of,
        cast(headcount.headcount as double) as headcount,
        cast(fiscal.executed as double) as spend,
        coalesce(tasks.weighted_tasks, 0.0) as weighted_tasks,
        coalesce(tasks.weighted_completion, 0.0) as weighted_completion,
        qualitative.qualitative_achievement as qualitative_score,
        coalesce(tasks.workload_person_months, 0.0) as workload_person_months
    from units
    left join {{ ref('int_establishment_totals') }} as establishment
        on units.year = establishment.year and units.unit_code = establishment.unit_code
    left join {{ ref('int_headcount_on_as_of') }} as headcount
        on units.year = headcount.year and units.unit_code = headcount.unit_code
    left join {{ ref('int_fiscal_composite') }} as fiscal
        on units.year = fiscal.year and units.unit_code = fiscal.unit_code
    left join {{ ref('int_qualitative_scores') }} as qualitative
        on units.year = qualitative.year and units.unit_code = qualitative.unit_code
    left join {{ ref('int_unit_task_totals') }} as tasks
        on units.year = tasks.year and units.unit_code = tasks.unit_code
),

long as (
    unpivot wide
    on establishment, establishment_as_of, headcount, spend, weighted_tasks, weighted_completion,
    qualitative_score, workload_person_months
    into name measure value value
),

final as (
    select
        units.year,
        units.unit_code,
        units.group_code,
        units.category,
        configuration.measure,
        long.value
    from units
    inner join {{ ref('int_dea_configuration') }} as configuration on units.year = configuration.year
    left join long
        on
            units.year = long.year
            and units.unit_code = long.unit_code
            and configuration.measure = long.measure
)

select * from final
