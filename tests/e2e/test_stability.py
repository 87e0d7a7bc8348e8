"""`kaohe stability` and the published grade_stability (docs/methodology.md §14) on a hand-made
category group, and on the published sample."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from dagster_project.cli import app

# One category group of four units, grade-1 places floor(0.3 · 4) = 1, q = 0.2:
# A: lines 55 + one reviewer per group (Q = 90) → 73.00 in every draw: grade 2, rank 3 always.
# B: lines 66, leaders 70 and 100 → Q ∈ {70, 85, 100} with probability 1/4, 1/2, 1/4 → 80, 83, 86.
# C: lines 65, the same reviews → 79, 82, 85 (one point below B for the same draw of reviews).
# D: lines 50, no reviews → 50.00: grade 3 always, rank 4.
# B wins a tie (E 5 < 6), so B is grade 1 unless B < C: P = 1 − (1/4 · 3/4 + 1/2 · 1/4) = 11/16;
# C is grade 1 otherwise (C > B ≥ 80): 5/16. The single grade-1 place is always taken.
UNITS = [("A", 7, 55.0), ("B", 5, 66.0), ("C", 6, 65.0), ("D", 8, 50.0)]
REVIEWS = [
    ("A", "leaders", "a1", 90.0), ("A", "peers", "a2", 90.0), ("A", "service_objects", "a3", 90.0),
    ("B", "leaders", "b1", 70.0), ("B", "leaders", "b2", 100.0),
    ("C", "leaders", "c1", 70.0), ("C", "leaders", "c2", 100.0),
]  # fmt: skip
PARAMETERS = {"qualitative_share": 0.2, "grade1_share": 0.3, "grade1_min_total": 80, "grade3_below_total": 60,
              "stability_draws": 200, "stability_seed": 1}  # fmt: skip


def hand_made(tmp_path):
    warehouse = tmp_path / "work" / "kaohe.duckdb"
    publish = tmp_path / "published"
    warehouse.parent.mkdir()
    publish.mkdir()
    con = duckdb.connect(str(warehouse))
    for schema in ("staging", "intermediate", "methodology"):
        con.execute(f"create schema {schema}")
    con.execute("create table intermediate.int_evaluation_years as select 2023 as year, 2023 as parameter_year")
    con.execute("create table methodology.methodology_parameters (year integer, parameter varchar, value double)")
    con.executemany("insert into methodology.methodology_parameters values (2023, ?, ?)", list(PARAMETERS.items()))
    con.execute(
        "create table methodology.methodology_reviewer_groups (year integer, reviewer_group varchar, weight double)"
    )
    con.execute("insert into methodology.methodology_reviewer_groups values "
                "(2023, 'leaders', 0.5), (2023, 'peers', 0.2), (2023, 'service_objects', 0.3)")  # fmt: skip
    con.execute("create table staging.stg_performance__reviews (year integer, unit_code varchar, "
                "reviewer_group varchar, reviewer_id varchar, score double)")  # fmt: skip
    con.executemany("insert into staging.stg_performance__reviews values (2023, ?, ?, ?, ?)", REVIEWS)
    con.close()
    con = duckdb.connect(str(publish / "kaohe.duckdb"))
    con.execute("create schema marts")
    con.execute(
        "create table marts.unit_scores (year integer, unit_code varchar, group_code varchar, category varchar, "
        "stage varchar, as_of date, s_key_work double, establishment integer, vetoed boolean)"
    )
    con.executemany(
        "insert into marts.unit_scores values (2023, ?, 'G', 'economic', 'year_end', '2024-01-31', 1.0, ?, false)",
        [(code, posts) for code, posts, _ in UNITS],
    )
    con.execute("create table marts.score_line_items (year integer, unit_code varchar, line_no integer, "
                "component varchar, points double)")  # fmt: skip
    # the fixed lines split in two, plus the lines a draw replaces (qualitative) or drops (floor)
    con.executemany("insert into marts.score_line_items values (2023, ?, ?, ?, ?)",
                    [row for code, _, points in UNITS for row in (
                        (code, 1, "indicator", points + 1), (code, 2, "deduction", -1.0),
                        (code, 3, "qualitative", 99.0), (code, 4, "floor", 5.0))])  # fmt: skip
    con.close()
    return warehouse, publish


def test_stability_on_a_hand_made_group(tmp_path, dbt_manifest):
    warehouse, publish = hand_made(tmp_path)
    out = tmp_path / "certainty.csv"
    args = ["stability", "--year", "2023", "--draws", "2000", "--seed", "3",
            "--warehouse", str(warehouse), "--publish", str(publish), "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(out, dtype={"unit_code": str}).set_index("unit_code")
    assert list(rows.columns) == ["year", "draws", "p_grade1", "p_grade2", "p_grade3", "rank_p05", "rank_p95"]
    assert (rows["draws"] == 2000).all()
    assert rows.loc["A", ["p_grade1", "p_grade2", "p_grade3", "rank_p05", "rank_p95"]].tolist() == [0, 1, 0, 3, 3]
    assert rows.loc["D", ["p_grade1", "p_grade2", "p_grade3", "rank_p05", "rank_p95"]].tolist() == [0, 0, 1, 4, 4]
    assert 0 < rows.loc["C", "p_grade1"] < rows.loc["B", "p_grade1"] < 1
    assert rows.loc["B", "p_grade1"] + rows.loc["C", "p_grade1"] == pytest.approx(1)
    assert rows.loc["B", "p_grade1"] == pytest.approx(11 / 16, abs=0.05)
    assert rows.loc["B", "p_grade1"] + rows.loc["B", "p_grade2"] == pytest.approx(1)
    assert (rows.loc["B", "rank_p05"], rows.loc["B", "rank_p95"]) == (1, 2)


def test_stability_refuses_a_year_without_a_published_ranking(tmp_path):
    warehouse, publish = hand_made(tmp_path)
    args = ["stability", "--year", "2021", "--warehouse", str(warehouse), "--publish", str(publish),
            "--out", str(tmp_path / "x.csv")]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "has no ranking of 2021" in result.output
    assert not (tmp_path / "x.csv").exists()


def test_the_nightly_job_publishes_grade_stability(sample_published):
    _, settings, _ = sample_published
    con = duckdb.connect(str(settings.publish_dir + "/kaohe.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "select g.unit_code, g.draws, g.p_grade1, g.p_grade2, g.p_grade3, s.grade, s.vetoed, s.has_reviews "
            "from marts.grade_stability g join marts.unit_scores s using (year, unit_code) where g.year = 2023"
        ).fetchall()
    finally:
        con.close()
    assert len(rows) == 6 and {r[1] for r in rows} == {200}  # the methodology's draws
    for _, _, p1, p2, p3, grade, vetoed, has_reviews in rows:
        assert p1 + p2 + p3 == pytest.approx(1)
        if vetoed or not has_reviews:  # U5 vetoed, U6 without reviews (43.72): grade 3 in every draw
            assert (p3, grade) == (1, 3)


def test_the_scorecard_shows_the_grade_certainty(sample_published):
    from pathlib import Path

    from dagster_project.outputs.scorecard import read_year, render
    from tests.sample_units import U1, U5

    _, settings, _ = sample_published
    results = read_year(Path(settings.publish_dir), 2023)
    vetoed = render(results, U5)  # grade 3 in every draw (the veto), first of its category
    assert '<p id="certainty-line">在 200 次重抽样中 100.0% 为三等次</p>' in vetoed
    assert "<td>第 1 名</td>" in vetoed
    assert "200 resamples of the reviews give grade 2" in render(results, U1, "en")


def test_the_workbook_lists_the_units_whose_grade_is_uncertain(sample_published, tmp_path):
    from pathlib import Path

    from dagster_project.outputs.export import export

    _, settings, _ = sample_published
    counts = export(Path(settings.publish_dir), 2023, tmp_path / "ranking.xlsx")
    con = duckdb.connect(str(settings.publish_dir + "/kaohe.duckdb"), read_only=True)
    try:
        expected = con.execute(
            "select unit_code from marts.grade_stability where year = 2023 "
            "and greatest(p_grade1, p_grade2, p_grade3) <= 0.9 order by unit_code"
        ).fetchall()
    finally:
        con.close()
    sheet = pd.read_excel(tmp_path / "ranking.xlsx", sheet_name="等次不确定单位", dtype={"统一社会信用代码": str})
    assert counts["等次不确定单位"] == len(sheet) == len(expected)
    assert sorted(sheet["统一社会信用代码"]) == [code for (code,) in expected]
    headers = {"一等次概率", "二等次概率", "三等次概率", "类别排名第五百分位", "类别排名第九十五百分位"}
    assert headers <= set(sheet.columns)
