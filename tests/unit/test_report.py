"""The quality report's trend across runs and its sections (dagster_project/quality/report.py)."""

from __future__ import annotations

import html
import json
import re
from datetime import datetime

import duckdb
import pandas as pd

from dagster_project.quality.report import (
    HISTORY_FILE,
    VERDICT_BLOCKED,
    VERDICT_PUBLISHED,
    CheckOutcome,
    InForce,
    _parents,
    english_path,
    report_path,
    write_report,
)

PASSED = CheckOutcome("marts/unit_scores", "assert_ranks_are_gapless", True, "ERROR")
FAILED = CheckOutcome(
    "ingest/quarantine", "quarantine_share_within_limit", False, "ERROR", "persons: 12%", 30, "dagster"
)


def test_each_run_is_one_point_of_the_trend_and_its_last_report_wins(tmp_path):
    publish = tmp_path / "published"
    write_report(
        report_path(publish, "run-1"),
        "run-1",
        [PASSED],
        VERDICT_PUBLISHED,
        "2024-01-31",
        in_force=InForce(None, (100, 0)),
    )
    write_report(
        report_path(publish, "run-2"),
        "run-2",
        [FAILED],
        VERDICT_BLOCKED,
        "2024-02-29",
        in_force=InForce(None, (50, 30)),
    )
    # the same run writes its report again (gate, then publish or the failure hook): one point
    page = write_report(
        report_path(publish, "run-2"),
        "run-2",
        [FAILED, PASSED],
        VERDICT_BLOCKED,
        "2024-02-29",
        in_force=InForce(None, (50, 30)),
    ).read_text(encoding="utf-8")
    history = (publish / HISTORY_FILE).read_text(encoding="utf-8").splitlines()
    assert sorted(p.name for p in (publish / "runs").iterdir()) == ["run-1", "run-2"]  # run folders only
    points = [json.loads(line) for line in history]
    assert [(p["run_id"], p["rows"], p["quarantined"], p["failed"]) for p in points] == [
        ("run-1", 100, 0, 0),
        ("run-2", 50, 30, 1),
    ]
    assert "趋势（最近 2 次运行）" in page
    # rows in force: 100 then 50 → bars of the full height (60 px) and half of it
    rows_chart = page.split("aria-label='在用行数'>")[1].split("</svg>")[0]
    assert re.findall(r"height='([\d.]+)'", rows_chart) == ["60.0", "30.0"]
    # failed checks first, named in plain words, the technical name beside
    assert page.index("未通过和警告的检查") < page.index("项检查通过")
    assert "在用数据中没有哪张表被拒收的行超过 5%（比例和最少行数按各表的数据约定）" in page
    assert "<span class=tech>quarantine_share_within_limit</span>" in page
    english = english_path(report_path(publish, "run-2")).read_text(encoding="utf-8")
    assert "no table in force has more than 5% of its rows quarantined" in english


def test_a_history_line_cut_by_a_killed_run_is_dropped_not_fatal(tmp_path):
    publish = tmp_path / "published"
    publish.mkdir(parents=True)
    (publish / HISTORY_FILE).write_text('{"run_id": "old", "rows": 5}\n{"run_id": "cut', encoding="utf-8")
    write_report(
        report_path(publish, "new"), "new", [PASSED], VERDICT_PUBLISHED, "2024-01-31", in_force=InForce(None, (7, 1))
    )
    lines = (publish / HISTORY_FILE).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["run_id"] for line in lines] == ["old", "new"]


def _publish_snapshot(publish, run_id: str) -> None:
    """A current snapshot as BI opens it: only its publication record."""
    publish.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(publish / "kaohe.duckdb"))
    con.execute("create schema marts")
    con.execute(
        "create table marts.publication as select ? as run_id, ?::timestamp as published_at, ?::date as as_of",
        [run_id, datetime(2024, 2, 1, 2, 30), "2024-01-31"],
    )
    con.close()


def test_the_first_lines_say_what_happened_and_which_publication_bi_sees(tmp_path):
    publish = tmp_path / "published"
    _publish_snapshot(publish, "good-run")
    notice = "2023 年终排名为暂定排名：有 2 个单位数据不完整。"
    page = write_report(
        report_path(publish, "bad-run"), "bad-run", [FAILED, PASSED], VERDICT_BLOCKED, "2024-02-29", notices=[notice]
    ).read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page
    verdict = re.search(r"<p class=verdict id=verdict>(.*?)</p>", page).group(1)
    assert verdict == "本次运行未发布：有阻断性检查未通过，发布内容保持不变。"
    sees = re.search(r"<p id=bi-sees>(.*?)</p>", page).group(1)
    assert sees == "BI 现在看到的发布：批次 good-run（发布于 2024-02-01 02:30，评价基准日 2024-01-31），不是本次运行。"
    assert page.index(verdict) < page.index(notice) < page.index("未通过和警告的检查")  # the notice at the top
    english = html.unescape(english_path(report_path(publish, "bad-run")).read_text(encoding="utf-8"))
    assert "Not published: a blocking check failed; the publication stays as it was." in english
    assert "BI now sees publication good-run (published 2024-02-01 02:30, as of 2024-01-31), not this run's." in english
    nothing = write_report(report_path(tmp_path / "empty", "r"), "r", [PASSED], VERDICT_BLOCKED, "2024-01-31")
    assert "BI 现在看不到任何发布：还没有成功发布过。" in nothing.read_text(encoding="utf-8")


QUARANTINE = pd.DataFrame(
    [
        ("performance.tasks", "d1", "tasks.csv", 3, "title", "", "missing_required"),
        ("performance.progress", "d1", "progress.csv", 7, "task_id", "T9", "dangling_reference"),
        ("performance.progress", "d1", "progress.csv", 8, "task_id", "T404", "dangling_reference"),
        ("staffing.persons", "d1", "persons.csv", 2, "id_number", "5f3a9c…", "bad_check_character"),
        ("staffing.persons", "d1", "persons.csv", 2, "headcount_type", "xx", "unknown_value"),
    ],
    columns=["source_table", "delivery", "file", "line", "column_name", "value", "reason"],
)
REJECTED_ROWS = pd.DataFrame(
    [("performance.tasks", 3, json.dumps({"task_id": "T9", "title": ""}), "missing_required")],
    columns=["source_table", "line", "row_json", "reasons"],
)


def test_a_rejected_cell_shows_its_value_and_a_child_its_rejected_parent(tmp_path):
    quarantine = QUARANTINE.assign(parent=_parents(QUARANTINE, REJECTED_ROWS))
    assert quarantine["parent"].tolist() == [None, ("performance.tasks", 3, "missing_required"), None, None, None]
    page = write_report(
        report_path(tmp_path / "published", "r"), "r", [PASSED], VERDICT_PUBLISHED, "2024-01-31",
        in_force=InForce(quarantine, (100, 3), [(2023, "late_surge", 2), (2023, "reviewer_gap", 1)]),
    ).read_text(encoding="utf-8")  # fmt: skip
    cells = {
        (table, line, reason): (value, parent)
        for table, line, reason, value, parent in re.findall(
            r"<tr class=rejected data-table='([^']*)' data-line='(\d+)' data-reason='([^']*)'>.*?"
            r"<td class=value>(.*?)</td>.*?<td class=parent>(.*?)</td>",
            page,
        )
    }
    assert cells[("performance.progress", "7", "dangling_reference")] == (
        "T9",
        "performance.tasks 第 3 行被拒收（必填项为空）",
    )
    assert cells[("performance.progress", "8", "dangling_reference")] == ("T404", "上级记录不在本批数据中")
    assert cells[("performance.tasks", "3", "missing_required")] == ("（空）", "")
    assert cells[("staffing.persons", "2", "bad_check_character")][0] == "（个人信息，已隐去）"  # never the hash
    assert cells[("staffing.persons", "2", "unknown_value")][0] == "xx"
    assert "隔离区：在用数据中 5 个单元格被拒收（3 行）" in page
    assert "结果失实线索：3 条（2023 四季度进度突增 2、2023 评议分差异大 1）；供线下核实，不是检查失败" in page
    assert "引用的上级记录不存在或被拒收 2" in page


DBT_FAILED = CheckOutcome("marts/unit_scores", "primary_key_unit_scores", False, "ERROR", "", 2)
GX_WARNED = CheckOutcome(
    "publish/quality_gate", "gx_sources", False, "WARN", "has_reviews: 1 rows", 1, "great_expectations"
)


def _check_titles(page: str) -> dict[str, str]:
    """technical name → the plain words shown above it, of every check row of a page."""
    return {
        name: html.unescape(title)
        for title, name in re.findall(r"<td>([^<]*)<span class=tech>([^<]*)</span></td>", page)
    }


def test_a_check_is_titled_in_the_pages_language(tmp_path, dbt_manifest):
    path = write_report(
        report_path(tmp_path / "published", "r"), "r", [DBT_FAILED, GX_WARNED, FAILED, PASSED], VERDICT_BLOCKED,
        "2024-01-31",
    )  # fmt: skip
    zh = _check_titles(path.read_text(encoding="utf-8"))
    en = _check_titles(english_path(path).read_text(encoding="utf-8"))
    key = "每个（考核年度、统一社会信用代码）只有一行；考核年度、统一社会信用代码、"
    assert zh["primary_key_unit_scores"].startswith(key)
    assert en["primary_key_unit_scores"].startswith("one row per (year, unit_code); no null in: year, unit_code, ")
    assert zh["assert_ranks_are_gapless"] == "失败表示某类别或考核组内的名次不是从 1 起的连续整数（有空缺或并列）。"
    assert zh["gx_sources"].startswith("源数据：年终时名单内每个单位都有评议数据")
    assert en["gx_sources"].startswith("Source level: reviews for every roster unit")
    assert len(zh) == 4 and [name for name, title in zh.items() if re.search("[A-Za-z]", title)] == []


def _details(page: str) -> dict[str, str]:
    """technical name → the detail column of its check row."""
    return {
        name: html.unescape(detail)
        for name, detail in re.findall(
            r"<span class=tech>([^<]*)</span></td><td>[^<]*</td><td>[^<]*</td><td>([^<]*)</td></tr>", page
        )
    }


def test_what_a_check_found_is_said_in_the_pages_language(tmp_path):
    """A GX suite's unmet expectations and the quarantine share check's tables, from the figures the
    checks record (read back from the Dagster event as the publishing step does): Chinese on the
    Chinese page, English on the English one; ten units named, the rest counted."""
    import dagster as dg

    from dagster_project.quality.report import outcome_of
    from dagster_project.quality.suites import ExpectationOutcome, SuiteOutcome

    units = tuple(f"单位{i}（1132000000000000{i:02d}）" for i in range(12))
    reviews = ExpectationOutcome(
        "year_end_reviews", "expect_column_values_to_be_in_set", "has_reviews", False, "warn", 12, units,
        "年终时名单内每个单位都有评议数据",
    )  # fmt: skip
    register = ExpectationOutcome(
        "year_end_reviews",
        "expect_column_values_to_be_in_set",
        "in_register",
        True,
        "warn",
        0,
        (),
        "名单内每个单位都在实名制名册中",
    )
    suite = SuiteOutcome("sources", "", [reviews, register])
    evaluation = dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey(["publish", "quality_gate"]), check_name="gx_sources", passed=False,
        severity=dg.AssetCheckSeverity.WARN, description=suite.summary(),
        metadata={"source": "great_expectations", "detail": dg.MetadataValue.json(suite.facts())},
    )  # fmt: skip
    gx = outcome_of(evaluation)
    lights = SuiteOutcome("task_lights", "", [ExpectationOutcome("light_coverage", "t", "c", True, "error", 0)])
    met = CheckOutcome(
        "publish/quality_gate", "gx_task_lights", True, "ERROR", "1 expectations met", 0, "great_expectations",
        facts=lights.facts(),
    )  # fmt: skip
    over = [
        {"table": "performance.incidents", "label": "问题记录", "read": 12, "rejected": 5, "share": 5 / 12,
         "limit": 0.05, "least": 5, "blocking": True},
        {"table": "staffing.persons", "label": "人员", "read": 100, "rejected": 3, "share": 0.03, "limit": 0.02,
         "least": 5, "blocking": False},
    ]  # fmt: skip
    share = CheckOutcome(
        "ingest/quarantine", "quarantine_share_within_limit", False, "ERROR", "", None, "dagster", facts={"over": over}
    )
    path = write_report(
        report_path(tmp_path / "published", "r"), "r", [gx, share, met, PASSED], VERDICT_BLOCKED, "2024-01-31"
    )
    zh = _details(path.read_text(encoding="utf-8"))
    en = _details(english_path(path).read_text(encoding="utf-8"))
    named = "、".join(units[:10])
    assert zh["gx_sources"] == f"年终时名单内每个单位都有评议数据：12 行不符合（警告），涉及单位：{named}等，另有 2 个"
    assert zh["quarantine_share_within_limit"] == (
        "问题记录（performance.incidents）：12 行中 5 行被拒收（41.7%，超过 5%）；"
        "人员（staffing.persons）：100 行中 3 行被拒收（3.0%，超过 2%），不足 5 行，只作警告"
    )
    assert zh["gx_task_lights"] == "1 项期望全部满足"
    assert zh["assert_ranks_are_gapless"] == ""  # a passed dbt test: its title says it all
    assert en["gx_sources"] == (
        f"expect_column_values_to_be_in_set(has_reviews) on year_end_reviews: 12 rows [warn] — units: "
        f"{', '.join(units[:10])} … (+2)"
    )
    assert en["quarantine_share_within_limit"] == (
        "performance.incidents: 5 of 12 rows quarantined (41.7%, over 5%); "
        "staffing.persons: 3 of 100 rows quarantined (3.0%, over 2%), fewer than 5 rows: a warning"
    )
    assert en["gx_task_lights"] == "1 expectations met"
    # the English words are those the check itself records (ingest/assets.share_verdicts)
    from dagster_project.ingest.assets import _in_words

    blocking, warnings = _in_words(over)
    assert "; ".join(blocking + warnings) == en["quarantine_share_within_limit"]
    # an outcome without figures (a run recorded before them) keeps its own description
    old = CheckOutcome(
        "ingest/quarantine", "quarantine_share_within_limit", True, "ERROR", "every table under the limit", 0, "dagster"
    )
    path = write_report(report_path(tmp_path / "published", "s"), "s", [old], VERDICT_BLOCKED, "2024-01-31")
    assert _details(path.read_text(encoding="utf-8"))["quarantine_share_within_limit"] == "every table under the limit"
