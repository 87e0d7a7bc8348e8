"""The before/after comparison of two publications (dagster_project/publish/compare.py)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from dagster_project.publish.compare import compare, main


def _publication(
    path: Path, scores: list[tuple], extra_table: bool = False, run_id: str = "r1", extra_column: str = ""
) -> Path:
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute("create table marts.unit_scores (year integer, unit_code varchar, total_score decimal(9, 2))")
    con.executemany("insert into marts.unit_scores values (?, ?, ?)", scores)
    if extra_column:
        con.execute(f"alter table marts.unit_scores add column {extra_column}")
    con.execute("create table marts.ranking_revisions (year integer, revision integer, run_id varchar)")
    con.execute("insert into marts.ranking_revisions values (2023, 1, ?)", [run_id])
    if extra_table:
        con.execute("create table marts.dim_region (code varchar)")
    con.close()
    return path


def test_equal_publications_differ_only_in_run_columns(tmp_path):
    rows = [(2023, "A", 90.5), (2023, "B", 80.0), (2023, "B", 80.0)]
    before = _publication(tmp_path / "before.duckdb", rows, run_id="r1")
    after = _publication(tmp_path / "after.duckdb", list(reversed(rows)), run_id="r2")
    result = compare(before, after)
    assert result.equal
    assert result.tables == {"ranking_revisions": (1, 2), "unit_scores": (3, 3)}
    assert main([str(before), str(after)]) == 0


def test_a_changed_cell_a_lost_duplicate_and_a_new_table_are_reported(tmp_path, capsys):
    before = _publication(tmp_path / "before.duckdb", [(2023, "A", 90.5), (2023, "B", 80.0), (2023, "B", 80.0)])
    after = _publication(tmp_path / "after.duckdb", [(2023, "A", 90.6), (2023, "B", 80.0)], extra_table=True)
    result = compare(before, after)
    problems = {d.table: d for d in result.differences}
    assert set(problems) == {"dim_region", "unit_scores"}
    assert problems["dim_region"].problem == "only after has this table"
    assert problems["unit_scores"].problem == "2 row(s) only before, 1 only after"
    assert sorted(problems["unit_scores"].only_before) == [(2023, "A", 90.5), (2023, "B", 80.0)]
    assert [tuple(map(str, r)) for r in problems["unit_scores"].only_after] == [("2023", "A", "90.60")]
    assert main([str(before), str(after)]) == 1
    assert "2 table(s) differ" in capsys.readouterr().out


def test_an_added_column_is_listed_and_a_retyped_one_is_a_difference(tmp_path):
    rows = [(2023, "A", 90.5)]
    before = _publication(tmp_path / "before.duckdb", rows)
    added = _publication(tmp_path / "added.duckdb", rows, extra_column="grade1_slots integer")
    result = compare(before, added)
    assert result.equal and result.added_columns == {"unit_scores": ["grade1_slots"]}
    con = duckdb.connect(str(added))
    con.execute("alter table marts.unit_scores alter total_score type double")
    con.close()
    result = compare(before, added)
    assert [d.table for d in result.differences] == ["unit_scores"]
    assert "total_score" in result.differences[0].problem
