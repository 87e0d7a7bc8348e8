-- The scalar methodology parameters in force for each evaluated year, for auditors and
-- `kaohe explain` (grade thresholds, shares, caps): which seed year they came from. The deduction
-- rules (docs/methodology.md §7) are here too, as `deduction_points_each:<reason>` and
-- `deduction_cap:<reason>`, so that a page can state a deduction's rule in words with the year's numbers.
with years as (
    select
        year,
        parameter_year
    from {{ ref('int_evaluation_years') }}
),

scalars as (
    select
        years.year,
        parameters.parameter,
        parameters.value,
        parameters.description,
        years.parameter_year
    from years
    inner join {{ ref('methodology_parameters') }} as parameters on years.parameter_year = parameters.year
),

deductions as (
    select
        year,
        'deduction_points_each:' || reason as parameter,
        cast(points_each as double) as value,
        name_zh || ' — points per item (每项扣分)' as description
    from {{ ref('methodology_deductions') }}
    where points_each is not null
    union all
    select
        year,
        'deduction_cap:' || reason as parameter,
        cast(cap as double) as value,
        name_zh || ' — cap of its cap group ' || cap_group || ' (封顶分值)' as description
    from {{ ref('methodology_deductions') }}
    where cap is not null
),

deduction_rules as (
    select
        years.year,
        deductions.parameter,
        deductions.value,
        deductions.description,
        years.parameter_year
    from years
    inner join deductions on years.parameter_year = deductions.year
),

final as (
    select * from scalars
    union all
    select * from deduction_rules
)

select * from final
