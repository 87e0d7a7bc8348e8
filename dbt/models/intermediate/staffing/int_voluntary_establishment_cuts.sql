-- Voluntary staffing cuts (主动精简, §7 and §11): each approval with change_reason
-- voluntary_reduction effective in Y on or before as_of, against the previous approval of
-- the same unit and staffing type; the cut counts when positive.
with roster_units as (
    select
        year,
        unit_code,
        as_of
    from {{ ref('int_roster_units') }}
),

establishment as (
    select
        *,
        lag(approved_count) over (partition by unit_code, staffing_type order by effective_from) as previous_count
    from {{ ref('stg_staffing__establishment') }}
),

final as (
    select
        roster_units.year,
        roster_units.unit_code,
        establishment.staffing_type,
        establishment.effective_from,
        establishment.doc_no,
        establishment.previous_count,
        establishment.approved_count,
        establishment.previous_count - establishment.approved_count as posts_cut
    from roster_units
    inner join establishment
        on
            roster_units.unit_code = establishment.unit_code
            and establishment.change_reason = 'voluntary_reduction'
            and year(establishment.effective_from) = roster_units.year
            and roster_units.as_of >= establishment.effective_from
    where establishment.previous_count - establishment.approved_count > 0
)

select * from final
