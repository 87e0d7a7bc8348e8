-- Establishment per staffing type of every unit (register or roster) on 1 January and on as_of
-- of each evaluated year (docs/methodology.md §11): per type the in-force row with the latest
-- effective_from, so a later approval supersedes an earlier one left open. The one place this
-- rule is written.
with years as (
    select
        year,
        as_of
    from {{ ref('int_evaluation_years') }}
),

units as (
    select unit_code from {{ ref('stg_staffing__units') }}
    union
    select unit_code from {{ ref('stg_performance__roster') }}
),

dates as (
    select
        years.year,
        units.unit_code,
        'jan1' as on_what,
        make_date(years.year, 1, 1) as on_date
    from years
    cross join units
    union all
    select
        years.year,
        units.unit_code,
        'as_of' as on_what,
        years.as_of as on_date
    from years
    cross join units
),

in_force as (
    select
        dates.year,
        dates.unit_code,
        dates.on_what,
        establishment.staffing_type,
        establishment.approved_count,
        establishment.chief_leader_posts,
        establishment.deputy_leader_posts,
        row_number() over (
            partition by dates.year, dates.unit_code, dates.on_what, establishment.staffing_type
            order by establishment.effective_from desc
        ) as recency
    from dates
    inner join {{ ref('stg_staffing__establishment') }} as establishment
        on
            dates.unit_code = establishment.unit_code
            and {{ in_force_on('dates.on_date', 'establishment.effective_from', 'establishment.effective_to') }}
),

final as (
    select
        year,
        unit_code,
        on_what,
        staffing_type,
        approved_count,
        chief_leader_posts,
        deputy_leader_posts
    from in_force
    where recency = 1
)

select * from final
