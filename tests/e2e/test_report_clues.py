"""Clues of false results (docs/methodology.md §13) end to end: the hand-checked sample (which
fires none) with seven edits, each made to fire exactly one clue, and three that must not fire
(a report dated after the evaluation date, a task outside statutory duty, a pending Q4 report
superseded by a verified one)."""

from __future__ import annotations

import json
import shutil

import duckdb
import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from dagster_project.cli import app
from dagster_project.core.settings import PROJECT_ROOT
from dagster_project.runner import run_nightly
from tests.conftest import settings_for
from tests.sample_units import U2, U3, U4, U5

pytestmark = pytest.mark.e2e

SAMPLE = PROJECT_ROOT / "sources" / "sample"


def _edit(path, change) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame = change(frame)
    frame.to_csv(path, index=False, lineterminator="\n")


def _set(frame, where: dict, **values):
    rows = pd.Series(True, index=frame.index)
    for column, value in where.items():
        rows &= frame[column] == value
    assert rows.sum() == 1, where
    for column, value in values.items():
        frame.loc[rows, column] = value
    return frame


def _report(task_id: str, quarter: int, reported_on: str, actual_value: str, verified_status: str) -> dict:
    return {"task_id": task_id, "quarter": str(quarter), "reported_on": reported_on,
            "actual_value": actual_value, "verified_status": verified_status}  # fmt: skip


def _add(frame, *rows: dict):
    return pd.concat([frame, pd.DataFrame([{c: "" for c in frame.columns} | r for r in rows])], ignore_index=True)


@pytest.fixture(scope="module")
def clue_run(tmp_path_factory, dbt_manifest):
    tmp = tmp_path_factory.mktemp("clues")
    delivery = tmp / "delivery"
    shutil.copytree(SAMPLE, delivery)
    performance = delivery / "performance"

    def progress(f):
        # value_pct_mismatch: T104 (target 5) reports 5 → 100 % but says 80 % → |100 − 80| = 20 > 10
        f = _set(f, {"task_id": "T104", "quarter": "4"}, actual_pct="80")
        # far_above_target: T301 (target 5) reports 8 → 8 / 5 = 1.6 > 1.5
        f = _set(f, {"task_id": "T301", "quarter": "4"}, actual_value="8")
        # unverified_at_year_end: T501's only (so latest) report is pending at year end
        f = _set(f, {"task_id": "T501", "quarter": "4"}, verified_status="pending")
        # not a clue: T106 is outside statutory duty (1 / 1 = 100 % against 50 %)
        f = _set(f, {"task_id": "T106", "quarter": "4"}, actual_pct="50")
        return _add(
            f,
            # progress_decreased: T402 (target 10) Q2 8 → 80 %, Q3 6 → 60 % < 80 %; Q4 100 − 60 = 40, no surge
            _report("T402", 2, "2023-07-05", "8", "verified"),
            _report("T402", 3, "2023-10-05", "6", "verified"),
            # late_surge: T202 (target 6) Q3 2 → 33.33 %, Q4 6 → 100 %: + 66.67 > 50
            _report("T202", 3, "2023-10-05", "2", "verified"),
            # not a clue: dated 2024-02-01, after the evaluation date (20 / 10 = 2 > 1.5, pending)
            _report("T401", 4, "2024-02-01", "20", "pending"),
        )  # fmt: skip

    _edit(performance / "progress.csv", progress)
    # reviewer_gap: U2's leaders 90, a peer 70 → 90 − 70 = 20 > 15 (U1: 85 − 75 = 10; U4: 95 − 87.5 = 7.5)
    _edit(performance / "reviews.csv", lambda f: _add(
        f, {"year": "2023", "unit_code": U2, "reviewer_group": "peers", "reviewer_id": "P1", "score": "70"}
    ))  # fmt: skip
    # workload_over_capacity: U3 (2 people in post) plans 40 person-months > 1.5 · 12 · 2 = 36
    _edit(performance / "tasks.csv", lambda f: _set(f, {"task_id": "T301"}, workload_person_months="40"))
    settings = settings_for(tmp, delivery)
    report = run_nightly(settings)
    assert report.exit_code == 0, (report.failures, report.failed_checks)
    con = duckdb.connect(settings.warehouse, read_only=True)
    yield con, settings
    con.close()


def test_each_clue_fires_once_and_nothing_else_does(clue_run):
    rows = clue_run[0].execute("select unit_code, task_id, clue from marts.report_clues order by clue").fetchall()
    assert sorted(rows, key=lambda r: r[2]) == sorted(
        [
            (U3, "", "workload_over_capacity"),
            (U2, "", "reviewer_gap"),
            (U2, "T202", "late_surge"),
            (U3, "T301", "far_above_target"),
            (U4, "T402", "progress_decreased"),
            (U5, "T501", "unverified_at_year_end"),
            ("11320100100000016C", "T104", "value_pct_mismatch"),
        ],
        key=lambda r: r[2],
    )


def test_each_clue_names_its_reports_and_numbers(clue_run):
    clues = {
        r[0]: (json.loads(r[1]), r[2])
        for r in clue_run[0].execute("select clue, evidence, detail from marts.report_clues").fetchall()
    }
    evidence, detail = clues["value_pct_mismatch"]
    (report,) = evidence["reports"]
    assert report["report"] == {"task_id": "T104", "quarter": 4, "reported_on": "2024-01-10"}
    assert (report["value_pct"], report["actual_pct"], report["difference"], evidence["threshold"]) == (100, 80, 20, 10)
    assert detail == "第4季度报告（2024-01-10）完成值 5 / 目标值 5 = 100%，填报进度 80%，相差 20 个百分点（阈值 10）"
    evidence, detail = clues["progress_decreased"]
    (decrease,) = evidence["decreases"]
    assert decrease["report"]["quarter"] == 3 and decrease["earlier_report"]["quarter"] == 2
    assert (decrease["progress_pct"], decrease["earlier_progress_pct"]) == (60, 80)
    assert detail == "第3季度进度 60% 低于第2季度的 80%"
    evidence, detail = clues["late_surge"]
    assert evidence["increase"] == pytest.approx(200 / 3) and evidence["q3_report"]["reported_on"] == "2023-10-05"
    assert detail == "第四季度进度 100% 比第三季度的 33.33% 高 66.67 个百分点（阈值 50）"
    evidence, detail = clues["far_above_target"]
    assert (evidence["actual_value"], evidence["target_value"], evidence["ratio"]) == (8, 5, 1.6)
    evidence, detail = clues["unverified_at_year_end"]
    assert evidence["report"]["reported_on"] == "2024-01-10" and evidence["verified_status"] == "pending"
    evidence, detail = clues["reviewer_gap"]
    assert (evidence["leaders_mean"], evidence["others_mean"], evidence["gap"]) == (90, 70, 20)
    assert evidence["reviews"] == {"leaders": ["L1"], "others": {"peers": ["P1"]}}
    assert detail == "领导评议均分 90 比其他评议主体均分的平均 70（同级互评 70）高 20 分（阈值 15）"
    evidence, detail = clues["workload_over_capacity"]
    assert (evidence["workload_person_months"], evidence["headcount"], evidence["capacity_person_months"]) == (
        40,
        2,
        36,
    )
    assert evidence["tasks"] == ["T301"]
    assert detail == "纳入计分任务工作量合计 40 人月，超过 1.5 × 12 × 在编 2 人 = 36 人月"


def test_the_unchanged_sample_has_no_clue(sample_published):
    _, settings, _ = sample_published
    with duckdb.connect(settings.warehouse, read_only=True) as con:
        assert con.execute("select count(*) from marts.report_clues").fetchone() == (0,)


def test_clues_are_on_the_offices_page_and_in_the_workbook_not_on_the_agencys(clue_run, tmp_path):
    _, settings = clue_run
    publish = settings.publish_dir
    pages = {}
    for audience in ("unit", "office"):
        out = tmp_path / f"{audience}.html"
        result = CliRunner().invoke(
            app, ["scorecard", U2, "--year", "2023", "--audience", audience, "--out", str(out), "--publish", publish]
        )
        assert result.exit_code == 0, result.output
        pages[audience] = out.read_text(encoding="utf-8")
    assert 'id="clues"' not in pages["unit"] and "结果失实线索" not in pages["unit"]
    office = pages["office"].split('<section id="clues">')[1].split("</section>")[0]
    assert office.count('class="clue"') == 2  # U2: late_surge (T202) and reviewer_gap
    assert 'data-clue="late_surge" data-task="T202"' in office and "四季度进度突增" in office
    assert "第四季度进度 100% 比第三季度的 33.33% 高 66.67 个百分点（阈值 50）" in office
    workbook = tmp_path / "ranking.xlsx"
    result = CliRunner().invoke(app, ["export", "--year", "2023", "--out", str(workbook), "--publish", publish])
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(workbook)["失实线索"]
    rows = list(sheet.iter_rows(values_only=True))
    clue = rows[0].index("线索")  # the unit's name stands beside its code, so found by header
    assert len(rows) == 1 + 7 and "四季度进度突增" in {r[clue] for r in rows[1:]}
    dea = list(openpyxl.load_workbook(workbook)["DEA"].iter_rows(values_only=True))
    assert len(dea) == 1 + 6 and {r[-1] for r in dea[1:]} == {"同组可比单位不足", "投入为零"}  # labels, not codes
