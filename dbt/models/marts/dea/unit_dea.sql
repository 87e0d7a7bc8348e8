-- Efficiency frontier (数据包络分析, docs/methodology.md §12) of every unit of a year-end ranking, within
-- its (year, group_code, category): the inputs and outputs exactly as the programs used them
-- (unrounded), CCR and BCC efficiency, scale efficiency = CCR / BCC, and the peers, slacks and
-- targets of the configured model (returns to scale, orientation); or why the unit was not evaluated.
-- The linear programs are solved in int_dea_solutions (scipy's HiGHS).
with solutions as (
    select * from {{ ref('int_dea_solutions') }}
),

final as (
    select
        cast(year as integer) as year,
        cast(unit_code as varchar) as unit_code,
        cast(group_code as varchar) as group_code,
        cast(category as varchar) as category,
        cast(returns_to_scale as varchar) as returns_to_scale,
        cast(orientation as varchar) as orientation,
        cast(inputs as varchar) as inputs,
        cast(outputs as varchar) as outputs,
        cast(decision_units as integer) as decision_units,
        cast(min_decision_units as integer) as min_decision_units,
        cast(efficiency_crs as double) as efficiency_crs,
        cast(efficiency_vrs as double) as efficiency_vrs,
        cast(scale_efficiency as double) as scale_efficiency,
        cast(peers as varchar) as peers,
        cast(slacks as varchar) as slacks,
        cast(targets as varchar) as targets,
        cast(excluded_reason as varchar) as excluded_reason
    from solutions
)

select * from final
