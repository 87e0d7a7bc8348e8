-- The indicators of each evaluated year, with the methodology year their weights come from.
with years as (
    select
        year,
        parameter_year
    from {{ ref('int_evaluation_years') }}
),

final as (
    select
        years.year,
        indicators.indicator_code,
        indicators.indicator_order,
        indicators.name_zh,
        indicators.name_en,
        indicators.weight,
        indicators.always_applicable,
        years.parameter_year
    from years
    inner join {{ ref('methodology_indicators') }} as indicators on years.parameter_year = indicators.year
)

select * from final
