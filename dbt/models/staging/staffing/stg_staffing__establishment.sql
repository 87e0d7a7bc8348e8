with source as (
    select * from {{ current_rows('staffing', 'establishment') }} as rows_in_force
),

final as (
    select
        unit_code,
        {{ enum_code('staffing.establishment', 'staffing_type') }} as staffing_type,
        {{ to_int('approved_count') }} as approved_count,
        coalesce({{ to_int('chief_leader_posts') }}, 0) as chief_leader_posts,
        coalesce({{ to_int('deputy_leader_posts') }}, 0) as deputy_leader_posts,
        {{ text('doc_no') }} as doc_no,
        {{ enum_code('staffing.establishment', 'change_reason') }} as change_reason,
        {{ to_date('effective_from') }} as effective_from,
        {{ to_date('effective_to') }} as effective_to,
        _load_id as load_id,
        _line as source_line
    from source
)

select * from final
