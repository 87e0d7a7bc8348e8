-- The scalar methodology parameters in force for each evaluated year, for auditors and
-- `kaohe explain` (grade thresholds, shares, caps): which seed year they came from.
with years as (
    select
        year,
        parameter_year
    from {{ ref('int_evaluation_years') }}
),

final as (
    select
        years.year,
        parameters.parameter,
        parameters.value,
        parameters.description,
        years.parameter_year
    from years
    inner join {{ ref('methodology_parameters') }} as parameters on years.parameter_year = parameters.year
)

select * from final
