-- What each roster unit's ranking rests on that it should not (docs/methodology.md §9): one row per
-- issue. rejected_row: a row of the unit rejected at ingestion, nothing kept in its place (the unit's
-- data are incomplete); carried_forward: a rejected row whose key keeps its last accepted version
-- (complete); not_ranked: the unit's roster row was rejected, so it has no score. Never a value of
-- the row: table, delivery, line and the reasons per column only (no personal data). Published as
-- unit_data_issues; unit_scores counts them.
with rejected as (
    select * from {{ ref('int_rejected_rows') }}
),

years as (
    select year from {{ ref('int_evaluation_years') }}
),

roster_units as (
    select
        year,
        unit_code
    from {{ ref('int_roster_units') }}
),

-- each rejected row once per evaluated year it touches
touches as (
    select
        years.year,
        rejected.*
    from rejected
    inner join years
        on
            rejected.touched_year is null
            or rejected.touched_year = years.year
            or (rejected.touches_next_year and years.year = rejected.touched_year + 1)
    where rejected.unit_code is not null
),

issues as (
    -- rows of units ranked in that year
    select
        touches.year,
        touches.unit_code,
        case when touches.carried_from_delivery is not null then 'carried_forward' else 'rejected_row' end as issue,
        touches.table_name as source_table,
        touches.delivery,
        touches.line,
        touches.reason,
        case
            when touches.carried_from_delivery is not null
                then
                    touches.detail || '；已沿用 ' || touches.carried_from_delivery
                    || ' 批次第 ' || touches.carried_from_line || ' 行'
            else touches.detail
        end as detail,
        case
            when touches.carried_from_delivery is not null
                then
                    touches.detail_en || ' — kept: delivery ' || touches.carried_from_delivery
                    || ', line ' || touches.carried_from_line
            else touches.detail_en
        end as detail_en
    from touches
    inner join roster_units on touches.year = roster_units.year and touches.unit_code = roster_units.unit_code

    union all

    -- a roster row rejected with nothing carried forward: the unit is evaluated but not ranked
    select
        touches.year,
        touches.unit_code,
        'not_ranked' as issue,
        touches.table_name as source_table,
        touches.delivery,
        touches.line,
        touches.reason,
        '名单行被拒收（' || touches.detail || '）' as detail,
        'roster row rejected: ' || touches.detail_en as detail_en
    from touches
    where
        touches.table_name = 'performance.roster'
        and touches.carried_from_delivery is null
        and not exists (
            select 1 from roster_units
            where roster_units.year = touches.year and roster_units.unit_code = touches.unit_code
        )
),

final as (
    select
        year,
        unit_code,
        cast(row_number() over (
            partition by year, unit_code order by issue, source_table, delivery, line
        ) as integer) as issue_no,
        issue,
        source_table,
        delivery,
        line,
        reason,
        detail,
        detail_en
    from issues
)

select * from final
