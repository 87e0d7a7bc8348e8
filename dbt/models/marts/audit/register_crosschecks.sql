-- Cross-checks of the evaluation against the real-name register (绩效考核 + 实名制, docs/methodology.md
-- §10, §11): business findings, not contract violations. Rows are produced for roster units
-- (a finding involving an off-roster unit is reported on the roster units involved), except
-- abolished units still in use, which covers every unit of the register.
with years as (
    select
        year,
        as_of
    from {{ ref('int_evaluation_years') }}
),

roster_units as (
    select
        year,
        unit_code
    from {{ ref('int_roster_units') }}
),

persons as (
    select * from {{ ref('stg_staffing__persons') }}
),

inactive_divisions as (
    select
        tasks.year,
        tasks.unit_code,
        'task_division_inactive' as check_name,
        tasks.task_id as subject_key,
        'division ' || tasks.division_code || ' is not an active division of the unit on ' || years.as_of as detail
    from {{ ref('int_tasks_classified') }} as tasks
    inner join years on tasks.year = years.year
    where tasks.division_code is not null and not tasks.division_active
),

stints as (
    select
        years.year,
        persons.person_key,
        persons.unit_code,
        persons.entry_date,
        greatest(persons.entry_date, make_date(years.year, 1, 1)) as overlap_from,
        least(coalesce(persons.exit_date, years.as_of), years.as_of) as overlap_to
    from persons
    inner join years
        on
            persons.entry_date <= years.as_of
            and (persons.exit_date is null or persons.exit_date >= make_date(years.year, 1, 1))
),

overlapped as (
    select
        first_stint.year,
        first_stint.person_key,
        first_stint.unit_code as first_unit,
        second_stint.unit_code as second_unit,
        greatest(first_stint.overlap_from, second_stint.overlap_from) as overlap_from,
        least(first_stint.overlap_to, second_stint.overlap_to) as overlap_to
    from stints as first_stint
    inner join stints as second_stint
        on
            first_stint.year = second_stint.year
            and first_stint.person_key = second_stint.person_key
            and (
                first_stint.entry_date < second_stint.entry_date
                or (first_stint.entry_date = second_stint.entry_date and first_stint.unit_code < second_stint.unit_code)
            )
    where
        greatest(first_stint.overlap_from, second_stint.overlap_from)
        <= least(first_stint.overlap_to, second_stint.overlap_to)
),

overlapping_stints as (
    select
        roster_units.year,
        roster_units.unit_code,
        'overlapping_stints' as check_name,
        overlapped.person_key as subject_key,
        string_agg(
            'stints in ' || overlapped.first_unit || ' and ' || overlapped.second_unit || ' overlap from '
            || overlapped.overlap_from || ' to ' || overlapped.overlap_to,
            '; '
            order by overlapped.overlap_from, overlapped.first_unit, overlapped.second_unit
        ) as detail
    from overlapped
    inner join roster_units
        on
            overlapped.year = roster_units.year
            and roster_units.unit_code in (overlapped.first_unit, overlapped.second_unit)
    group by roster_units.year, roster_units.unit_code, overlapped.person_key
),

core_duties as (
    select
        years.year,
        duties.unit_code,
        duties.duty_code,
        {{ normalise_text('duties.duty_text') }} as normalised_text
    from {{ ref('stg_performance__duties') }} as duties
    inner join years
        on
            {{ in_force_on('make_date(years.year, 1, 1)', 'duties.effective_from', 'duties.effective_to') }}
    where duties.is_core
),

shared_texts as (
    select
        year,
        normalised_text,
        string_agg(unit_code || ' ' || duty_code, ', ' order by unit_code, duty_code) as claimed_by
    from core_duties
    group by year, normalised_text
    having count(distinct unit_code) >= 2
),

shared_core_duties as (
    select
        core_duties.year,
        core_duties.unit_code,
        'shared_core_duty' as check_name,
        core_duties.duty_code as subject_key,
        'the same core duty is claimed by ' || shared_texts.claimed_by as detail
    from core_duties
    inner join shared_texts
        on core_duties.year = shared_texts.year and core_duties.normalised_text = shared_texts.normalised_text
    inner join roster_units on core_duties.year = roster_units.year and core_duties.unit_code = roster_units.unit_code
),

establishment_on_as_of as (
    select
        year,
        unit_code,
        sum(approved_count) as approved
    from {{ ref('int_establishment_types_in_force') }}
    where on_what = 'as_of'
    group by year, unit_code
),

people_on_as_of as (
    select
        year,
        unit_code,
        count(*) as headcount
    from {{ ref('int_persons_in_post') }}
    group by year, unit_code
),

abolished_in_use as (
    select
        years.year,
        units.unit_code,
        'abolished_unit_in_use' as check_name,
        units.unit_code as subject_key,
        'abolished on ' || units.abolished_on || ', on ' || years.as_of || ': establishment '
        || coalesce(establishment.approved, 0) || ', people in post ' || coalesce(people.headcount, 0) as detail
    from {{ ref('stg_staffing__units') }} as units
    inner join years on units.abolished_on <= years.as_of
    left join establishment_on_as_of as establishment
        on years.year = establishment.year and units.unit_code = establishment.unit_code
    left join people_on_as_of as people on years.year = people.year and units.unit_code = people.unit_code
    where coalesce(establishment.approved, 0) > 0 or coalesce(people.headcount, 0) > 0
),

final as (
    select * from inactive_divisions
    union all
    select * from overlapping_stints
    union all
    select * from shared_core_duties
    union all
    select * from abolished_in_use
)

select
    year,
    unit_code,
    check_name as "check",
    subject_key,
    detail
from final
