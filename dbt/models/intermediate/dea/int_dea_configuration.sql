-- The efficiency frontier's model for each evaluated year (docs/methodology.md §12): its inputs and
-- outputs with their order and Chinese names, returns to scale and orientation (the methodology
-- rows of the year's parameter year).
with measures as (
    {{ methodology_rows('methodology_dea_measures') }}
),

model as (
    {{ methodology_rows('methodology_dea_model') }}
),

final as (
    select
        measures.year,
        measures.measure,
        measures.role,
        measures.measure_order,
        measures.name_zh,
        model.returns_to_scale,
        model.orientation
    from measures
    inner join model on measures.year = model.year
)

select * from final
