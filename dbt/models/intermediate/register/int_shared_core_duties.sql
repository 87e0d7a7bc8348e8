-- 职责交叉 (docs/methodology.md §10): a core duty in force on 1 January whose text, compared after
-- NFKC normalisation without white space and punctuation, is claimed by two or more units. One
-- row per claiming unit and duty, naming every claimant ('U1（Z1）、U2（Z7）': unit and its duty code); any
-- unit of the register.
with years as (
    select year
    from {{ ref('int_evaluation_years') }}
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
        string_agg(unit_code || '（' || duty_code || '）', '、' order by unit_code, duty_code) as claimed_by
    from core_duties
    group by year, normalised_text
    having count(distinct unit_code) >= 2
),

final as (
    select
        core_duties.year,
        core_duties.unit_code,
        core_duties.duty_code,
        shared_texts.claimed_by
    from core_duties
    inner join shared_texts
        on core_duties.year = shared_texts.year and core_duties.normalised_text = shared_texts.normalised_text
)

select * from final
