-- The four quarters of each evaluated year: dates, reporting deadline, the stage each opens.
with quarter_numbers as (
    select unnest(range(1, 5)) as q
),

years as (
    select
        year,
        report_grace_days
    from {{ ref('int_evaluation_years') }}
),

quarters as (
    select
        years.year,
        quarter_number.q as quarter,
        make_date(years.year, quarter_number.q * 3 - 2, 1) as quarter_start,
        last_day(make_date(years.year, quarter_number.q * 3, 1)) as quarter_end,
        years.report_grace_days
    from years
    cross join quarter_numbers as quarter_number
),

final as (
    select
        year,
        cast(quarter as integer) as quarter,
        quarter_start,
        quarter_end,
        quarter_end + report_grace_days as report_deadline,
        case quarter
            when 1 then 'q1_monitoring'
            when 2 then 'half_year'
            when 3 then 'q3_monitoring'
            else 'q4_monitoring'
        end as stage_opened
    from quarters
)

select * from final
