"""The quality report's trend across runs and its sections (dagster_project/quality/report.py)."""

from __future__ import annotations

import json
import re

from dagster_project.quality.report import (
    HISTORY_FILE,
    VERDICT_BLOCKED,
    VERDICT_PUBLISHED,
    CheckOutcome,
    InForce,
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
    assert "trend 趋势 (last 2 runs)" in page
    # rows in force: 100 then 50 → bars of the full height (60 px) and half of it
    rows_chart = page.split("aria-label='rows in force 在用行数'>")[1].split("</svg>")[0]
    assert re.findall(r"height='([\d.]+)'", rows_chart) == ["60.0", "30.0"]
    # failed checks first, named in plain words, the technical name beside
    assert page.index("failed and warned checks") < page.index("checks passed")
    assert "no table in force has more than 5% of its rows quarantined" in page
    assert "<span class=tech>quarantine_share_within_limit</span>" in page


def test_a_history_line_cut_by_a_killed_run_is_dropped_not_fatal(tmp_path):
    publish = tmp_path / "published"
    publish.mkdir(parents=True)
    (publish / HISTORY_FILE).write_text('{"run_id": "old", "rows": 5}\n{"run_id": "cut', encoding="utf-8")
    write_report(
        report_path(publish, "new"), "new", [PASSED], VERDICT_PUBLISHED, "2024-01-31", in_force=InForce(None, (7, 1))
    )
    lines = (publish / HISTORY_FILE).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["run_id"] for line in lines] == ["old", "new"]


def test_the_clues_of_false_results_are_counted_not_failed(tmp_path):
    publish = tmp_path / "published"
    clues = [(2023, "value_pct_mismatch", "实际值与完成百分比不符", 1), (2023, "late_surge", "四季度进度突增", 12)]
    page = write_report(
        report_path(publish, "r"), "r", [PASSED], VERDICT_PUBLISHED, "2024-01-31", in_force=InForce(None, (9, 0), clues)
    ).read_text(encoding="utf-8")
    assert "结果失实线索 clues of false results: 13（2023 实际值与完成百分比不符 1，2023 四季度进度突增 12；" in page
    assert "1 passed, 0 failed" in page
    none = write_report(
        report_path(publish, "s"), "s", [PASSED], VERDICT_PUBLISHED, "2024-01-31", in_force=InForce(None, (9, 0), [])
    ).read_text(encoding="utf-8")
    assert "clues of false results: 0" in none
