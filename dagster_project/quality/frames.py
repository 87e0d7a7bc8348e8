"""The frames the expectation suites validate, read from the working warehouse.

Only what dbt's tests do not say well is here: coverage against the roster and the classified
tasks (derived frames: GX's row-condition SQL does not run on pandas data), ranges with
methodology values, and the personal-data scan. Grains, gapless ranks, grade rules and line
reconciliation are dbt tests (dbt/tests/, the marts' YAML); the gate blocks on both kinds.
Methodology values come from the dbt seeds in the warehouse at run time, never from the suite files.
"""

from __future__ import annotations

import hashlib
import hmac

import duckdb
import pandas as pd

FRAMES: dict[str, str] = {
    "unit_scores": "select * from marts.unit_scores",
    "unit_efficiency": "select * from marts.unit_efficiency",
    "staffing_signals": "select * from marts.staffing_signals",
    "register_crosschecks": """
        select checks.*, units.unit_name
        from marts.register_crosschecks as checks
        left join marts.dim_unit as units on checks.unit_code = units.unit_code
    """,
    "efficiency_coverage": """
        select scores.year, scores.unit_code, efficiency.unit_code is not null as has_efficiency
        from marts.unit_scores as scores
        left join marts.unit_efficiency as efficiency
            on scores.year = efficiency.year and scores.unit_code = efficiency.unit_code
    """,
    "roster_coverage": """
        select roster.year, roster.unit_code, scores.unit_code is not null as has_score
        from staging.stg_performance__roster as roster
        inner join intermediate.int_evaluation_years as years on roster.year = years.year
        left join marts.unit_scores as scores on roster.year = scores.year and roster.unit_code = scores.unit_code
    """,
    "light_coverage": """
        with expected as (
            select tasks.year, tasks.task_id, count(*) as quarters
            from intermediate.int_tasks_classified as tasks
            inner join intermediate.int_evaluation_years as years on tasks.year = years.year
            cross join range(1, 5) as q(q)
            where tasks.status = 'eligible' and last_day(make_date(tasks.year, q.q * 3, 1)) <= years.as_of
            group by all
        ),
        actual as (select year, task_id, count(*) as quarters from marts.task_lights group by all)
        select coalesce(expected.task_id, actual.task_id) as task_id,
            coalesce(expected.quarters = actual.quarters, false) as complete
        from expected full outer join actual on expected.year = actual.year and expected.task_id = actual.task_id
    """,
    # grades are a year-end result (docs/methodology.md §9): every year-end ranking, provisional or
    # final, has its grades; an interim one has none and no grade-1 places
    "ranking_grades": """
        select year, unit_code, stage,
            case when stage = 'year_end' then grade in (1, 2, 3) and grade1_slots is not null
                else grade is null and grade1_slots is null end as grades_as_stage_says
        from marts.unit_scores
    """,
    "year_end_reviews": """
        select year, unit_code, unit_name, has_reviews, in_register from marts.unit_scores where stage = 'year_end'
    """,
}

PARAMETERS_SQL = {
    "bonus_cap": "select max(bonus_cap) from intermediate.int_evaluation_years",
    "max_total_score": "select 100 + max(bonus_cap) from intermediate.int_evaluation_years",
}


def read_frame(con: duckdb.DuckDBPyConnection, name: str, pii_key: bytes | None = None) -> pd.DataFrame:
    if name == "personal_data_hits":
        return personal_data_hits(con, pii_key or b"")
    return con.execute(FRAMES[name]).df()


def parameters(con: duckdb.DuckDBPyConnection) -> dict:
    values = {name: con.execute(sql).fetchall()[0][0] for name, sql in PARAMETERS_SQL.items()}
    return {k: float(v) if isinstance(v, int | float) else v for k, v in values.items()}


def personal_data_hits(con: duckdb.DuckDBPyConnection, pii_key: bytes) -> pd.DataFrame:
    """Per published text column: cells whose keyed hash is a register ID number, name or person id.

    The warehouse holds only keyed hashes of personal data, so a published cell is personal
    when its own keyed hash is among them (docs/architecture.md: the gate compares every published text cell
    with the register's values, so codes that merely look like ID numbers pass).
    """
    register = set()
    for column in ("person_id_hash", "id_number_hash", "name_hash"):
        register |= {r[0] for r in con.execute(f"select distinct {column} from raw.staffing__persons").fetchall()}
    columns = con.execute(
        "select table_name, column_name from duckdb_columns() where schema_name = 'marts' "
        "and data_type = 'VARCHAR' order by table_name, column_name"
    ).fetchall()
    rows = []
    for table, column in columns:
        values = [r[0] for r in con.execute(f'select distinct "{column}" from marts.{table}').fetchall() if r[0]]
        hits = sum(1 for v in values if hmac.new(pii_key, v.encode("utf-8"), hashlib.sha256).hexdigest() in register)
        rows.append({"table": table, "column": column, "hits": hits})
    return pd.DataFrame(rows, columns=["table", "column", "hits"])
