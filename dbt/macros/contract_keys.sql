{#- Generated from sources/contracts by `python -m dagster_project.transform.sources`; do not edit. -#}
{% macro contract_key(system, table) -%}
    {%- set keys = {
        'finance.budget': ['fiscal_year', 'unit_code', 'func_code', 'econ_code'],
        'finance.execution': ['fiscal_year', 'month', 'unit_code', 'func_code', 'econ_code'],
        'finance.perf_goals': ['fiscal_year', 'unit_code', 'goal_id'],
        'performance.awards': ['award_id'],
        'performance.duties': ['unit_code', 'duty_code'],
        'performance.incidents': ['incident_id'],
        'performance.progress': ['task_id', 'quarter', 'reported_on'],
        'performance.reviews': ['year', 'unit_code', 'reviewer_group', 'reviewer_id'],
        'performance.roster': ['year', 'unit_code'],
        'performance.tasks': ['task_id'],
        'staffing.divisions': ['division_code'],
        'staffing.establishment': ['unit_code', 'staffing_type', 'effective_from'],
        'staffing.persons': ['person_id_hash', 'unit_code', 'entry_date'],
        'staffing.units': ['unit_code'],
    } -%}
    {{ return(keys[system ~ '.' ~ table]) }}
{%- endmacro %}
