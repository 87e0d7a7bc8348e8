"""The scorecard's grade-certainty section (docs/methodology.md §14): from the published
grade_stability, the share of the resampled draws in the unit's own grade ("在 200 次重抽样中 87%
为一等次"), the shares of the three grades and the 5th–95th percentile of its rank. Registered as a
scorecard extension (outputs/scorecard_data.Extension) when imported; outputs/scorecard.py does."""

from __future__ import annotations

from typing import Any

import duckdb

from dagster_project.outputs.scorecard_data import EXTENSIONS, SCHEMA, Extension

UNCERTAIN_AT_MOST = 0.9  # no grade's share above this: the grade is uncertain (the workbook's sheet too)


def _rank(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def read_certainty(con: duckdb.DuckDBPyConnection, year: int) -> dict[str, dict[str, Any]]:
    rows = con.execute(
        f"""
        select g.unit_code, g.draws, s.grade, g.p_grade1, g.p_grade2, g.p_grade3, g.rank_p05, g.rank_p95
        from {SCHEMA}.grade_stability as g
        inner join {SCHEMA}.unit_scores as s using (year, unit_code)
        where g.year = ? and s.grade is not null
        """,
        [year],
    ).fetchall()
    sections = {}
    for unit_code, draws, grade, p1, p2, p3, low, high in rows:
        shares = {1: p1, 2: p2, 3: p3}
        sections[unit_code] = {
            "draws": int(draws),
            "grade": int(grade),
            "share": shares[int(grade)],
            "shares": [{"grade": g, "share": share} for g, share in shares.items()],
            "rank_low": _rank(low),
            "rank_high": _rank(high),
            "uncertain": max(shares.values()) <= UNCERTAIN_AT_MOST,
        }
    return sections


if not any(extension.name == "certainty" for extension in EXTENSIONS):
    EXTENSIONS.append(Extension("certainty", ("grade_stability",), read_certainty))


UNCERTAIN_SHEET = "等次不确定单位"


def uncertain_grades(con: duckdb.DuckDBPyConnection, year: int):
    """The workbook's sheet of units whose grade is uncertain (no grade's share above 0.9), by
    evaluating body, category and rank; None when the publication has no grade_stability."""
    present = {
        r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name = ?", [SCHEMA]).fetchall()
    }
    if "grade_stability" not in present:
        return None
    return con.execute(
        f"""
        select s.group_code, s.category, s.rank_in_category, s.unit_code, s.unit_name, s.total_score, s.grade,
            g.draws, g.p_grade1, g.p_grade2, g.p_grade3, g.rank_p05, g.rank_p95
        from {SCHEMA}.grade_stability as g
        inner join {SCHEMA}.unit_scores as s using (year, unit_code)
        where g.year = ? and greatest(g.p_grade1, g.p_grade2, g.p_grade3) <= {UNCERTAIN_AT_MOST}
        order by s.group_code, s.category, s.rank_in_category
        """,
        [year],
    ).df()
