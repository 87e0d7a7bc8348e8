"""A rejected row never moves a ranking silently, and a year's ranking does not depend on the day
it runs (docs/methodology.md §9; issue 20). Small variants of the hand-checked sample
(sources/sample, README there), each run once per session and shared by the tests below.

Hand arithmetic for 乙局 U2 (113201001000000247) without its only establishment row: E = 0, so
N = max(1, 0) = 1 and key work stays s = 1; staff control with establishment 0 and people in post
→ 0, so fiscal = 0 + 0 + 0.15·0 + 0.15·1 = 0.15; over 40 + 15 + 10 = 65:
0.8·(40·1 + 15·0.15)·100/65 = 52.00, + 0.2·90 = 18 → 70.00 (was 72.77)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dagster_project.core.settings import PROJECT_ROOT
from tests.conftest import settings_for

pytestmark = pytest.mark.e2e

SAMPLE = PROJECT_ROOT / "sources" / "sample"
U1, U2, U6 = "11320100100000016C", "113201001000000247", "11320100100000067L"
CLEAN_TOTALS = {  # sources/sample/README.md
    U1: 81.96, U2: 72.77, "113201001000000322": 72.77, "11320100100000040W": 82.47,
    "11320100100000059R": 87.08, U6: 43.72,
}  # fmt: skip


def _edit(delivery: Path, table: str, old: str, new: str) -> None:
    path = delivery / table
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, (table, old)
    path.write_text(text.replace(old, new), encoding="utf-8")


def _bad_establishment(target: Path) -> Path:
    """The sample with U2's only establishment row unreadable (approved_count not a number)."""
    shutil.copytree(SAMPLE, target)
    _edit(target, "staffing/establishment.csv", f"{U2},administrative,6,", f"{U2},administrative,六,")
    return target


def _run(tmp: Path, sources: Path, as_of: str = "2024-01-31", **extra):
    from dagster_project.runner import run_nightly

    settings = settings_for(tmp, sources, as_of=as_of, **extra)
    report = run_nightly(settings)
    return settings, report


def _marts(settings, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(Path(settings.publish_dir) / "kaohe.duckdb"), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def _totals(settings) -> dict[str, float]:
    frame = _marts(settings, "select unit_code, total_score from marts.unit_scores where year = 2023")
    return {r.unit_code: float(r.total_score) for r in frame.itertuples()}


@pytest.fixture(scope="session")
def bad_establishment_run(tmp_path_factory, dbt_manifest):
    tmp = tmp_path_factory.mktemp("bad_establishment")
    return _run(tmp, _bad_establishment(tmp / "delivery"))


@pytest.fixture(scope="session")
def carried_forward_run(tmp_path_factory, dbt_manifest):
    """An inbox: the clean sample, then a delivery in which U2's establishment row is rejected."""
    tmp = tmp_path_factory.mktemp("carried_forward")
    inbox = tmp / "inbox"
    shutil.copytree(SAMPLE, inbox / "20240120")
    _bad_establishment(inbox / "20240131")
    return _run(tmp, inbox)


@pytest.fixture(scope="session")
def roster_progress_run(tmp_path_factory, dbt_manifest):
    """The sample with U6's roster row rejected (an unknown category), T101's Q3 report (U1)
    rejected (actual_value not a number), and a Q4 report of T102 (U1, 50% → 100%) dated
    2024-01-20, after the Q4 deadline of 2024-01-15: it must not count as of 2024-01-31."""
    tmp = tmp_path_factory.mktemp("roster_progress")
    delivery = tmp / "delivery"
    shutil.copytree(SAMPLE, delivery)
    _edit(delivery, "performance/roster.csv", f"2023,{U6},320100,support", f"2023,{U6},320100,supporting")
    _edit(delivery, "performance/progress.csv", "T101,3,2023-10-20,6,", "T101,3,2023-10-20,six,")
    path = delivery / "performance" / "progress.csv"
    path.write_text(path.read_text(encoding="utf-8") + "T102,4,2024-01-20,,100,verified\n", encoding="utf-8")
    return _run(tmp, delivery)


def test_a_rejected_establishment_row_publishes_a_provisional_ranking(bad_establishment_run):
    settings, report = bad_establishment_run
    assert report.exit_code == 0, (report.failures, report.failed_checks)
    scores = _marts(settings, "select * from marts.unit_scores where year = 2023").set_index("unit_code")
    assert set(scores["ranking_status"]) == {"provisional"}
    assert scores.loc[U2, "data_complete"] == False  # noqa: E712 (numpy bool)
    assert scores.loc[U2, "data_issues"] == 1
    assert scores.drop(index=U2)["data_complete"].all()
    assert scores.loc[U2, "establishment"] == 0
    totals = _totals(settings)
    assert totals.pop(U2) == 70.00  # hand arithmetic in the module docstring
    assert totals == {u: t for u, t in CLEAN_TOTALS.items() if u != U2}  # every other unit unchanged
    issues = _marts(settings, "select * from marts.unit_data_issues")
    assert issues[["year", "unit_code", "issue", "source_table", "line", "reason"]].values.tolist() == [
        [2023, U2, "rejected_row", "staffing.establishment", 4, "bad_type"]
    ]
    assert issues["detail"].tolist() == ["核定编制数：类型不符"]  # the column's Chinese name, the reason's label
    assert issues["detail_en"].tolist() == ["approved_count: wrong type"]
    # kaohe explain says it in the page's language: the reason's label and the detail
    import io

    from rich.console import Console

    from dagster_project.outputs.explain import explain

    said = {}
    for lang in ("zh", "en"):
        out = io.StringIO()
        explain(Path(settings.publish_dir), U2, 2023, Console(file=out, width=200), lang)
        said[lang] = out.getvalue()
    assert re.search(
        r"数据行被拒收：staffing\.establishment 第 4 行（批次 \S+）类型不符 — 核定编制数：类型不符", said["zh"]
    )
    assert re.search(
        r"staffing\.establishment line 4 \(delivery \S+\) bad_type — approved_count: wrong type", said["en"]
    )
    # provisional: not locked, so no revision is recorded and nothing is kept
    assert _marts(settings, "select count(*) as n from marts.ranking_revisions")["n"][0] == 0
    # said first, in Chinese and English
    notice = report.ranking["years"][0]
    assert notice["status"] == "provisional" and notice["incomplete_units"] == 1
    assert [i["unit_code"] for i in notice["issues"]] == [U2]
    quality = (report.published / "docs" / "quality.html").read_text(encoding="utf-8")
    top = quality.index("<h1>")
    assert quality.index("暂定排名", top) < quality.index("class=summary", top)
    assert "PROVISIONAL" in quality and U2 in quality


def test_accepting_the_incomplete_ranking_through_the_dagster_job_makes_it_final(bad_establishment_run, tmp_path):
    """The acceptance as run config of the Dagster job (what the launchpad, `dagster job execute -c`
    and a schedule give), on a copy of the provisional run's warehouse and publication."""
    import dagster as dg

    from dagster_project.definitions import build_definitions
    from dagster_project.runner import export_environment

    settings, _ = bad_establishment_run
    shutil.copytree(Path(settings.warehouse).parent, tmp_path / "warehouse", symlinks=True)
    copied = settings_for(tmp_path, Path(settings.sources_dir))
    export_environment(copied)
    job = build_definitions(copied).resolve_job_def("nightly")
    reason = "编办确认：乙局编制数据待补，按现有数据定案"
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            # a resource's run config replaces the whole of its configuration (paths included)
            run_config={
                "resources": {
                    "kaohe": {
                        "config": {
                            **copied.model_dump(include={"sources_dir", "warehouse", "publish_dir", "as_of"}),
                            "accept_incomplete_year": 2023,
                            "accept_incomplete_reason": reason,
                        }
                    }
                }
            },
        )
    assert result.success
    scores = _marts(copied, "select * from marts.unit_scores where year = 2023").set_index("unit_code")
    assert set(scores["ranking_status"]) == {"final"}  # only the status changes
    assert scores.loc[U2, "data_complete"] == False  # noqa: E712
    assert _totals(copied)[U2] == 70.00
    assert len(_marts(copied, "select * from marts.unit_data_issues")) == 1
    accepted = _marts(copied, "select * from marts.ranking_acceptances")
    assert accepted[["year", "revision", "reason", "units_affected", "unit_codes"]].values.tolist() == [
        [2023, 1, reason, 1, f'["{U2}"]']
    ]
    revisions = _marts(copied, "select * from marts.ranking_revisions")
    assert revisions["reason"].tolist() == [f"first year-end publication, accepted incomplete: {reason}"]


def test_a_key_rejected_in_the_newest_delivery_keeps_its_last_accepted_version(carried_forward_run):
    settings, report = carried_forward_run
    assert report.exit_code == 0, (report.failures, report.failed_checks)
    assert _totals(settings) == CLEAN_TOTALS  # U2 keeps E = 6 from the first delivery
    scores = _marts(settings, "select * from marts.unit_scores where year = 2023").set_index("unit_code")
    assert set(scores["ranking_status"]) == {"final"}  # carried forward only: complete
    assert scores["data_complete"].all() and scores.loc[U2, "data_issues"] == 1
    issues = _marts(settings, "select * from marts.unit_data_issues")
    assert issues[["unit_code", "issue", "source_table", "delivery", "line"]].values.tolist() == [
        [U2, "carried_forward", "staffing.establishment", "20240131", 4]
    ]
    assert issues["detail"][0].endswith("；已沿用 20240120 批次第 4 行")
    assert issues["detail_en"][0].endswith(" — kept: delivery 20240120, line 4")
    assert report.ranking["years"][0]["carried_forward"] == 1


def test_a_rejected_roster_row_leaves_its_unit_not_ranked_and_a_progress_row_flags_its_tasks_unit(
    roster_progress_run,
):
    settings, report = roster_progress_run
    assert report.exit_code == 0, (report.failures, report.failed_checks)
    scores = _marts(settings, "select * from marts.unit_scores where year = 2023").set_index("unit_code")
    assert U6 not in scores.index  # no score, and the gate does not miss it
    assert set(scores["ranking_status"]) == {"provisional"}
    assert not scores.loc[U1, "data_complete"]
    assert scores.drop(index=U1)["data_complete"].all()
    issues = _marts(settings, "select unit_code, issue, source_table, line, reason from marts.unit_data_issues")
    assert sorted(issues.values.tolist()) == [
        [U1, "rejected_row", "performance.progress", 4, "bad_type"],
        [U6, "not_ranked", "performance.roster", 7, "unknown_value"],
    ]
    # the late Q4 report of T102 (2024-01-20) does not count: every ranked total is the clean one
    assert _totals(settings) == {u: t for u, t in CLEAN_TOTALS.items() if u != U6}
    # 1 bad row of the 6-row roster (17%) is under the least number of rows that blocks: a warning
    assert any(c.name == "quarantine_share_within_limit" for c in report.warned_checks)
    notice = report.ranking["years"][0]
    assert notice["status"] == "provisional" and notice["not_ranked_units"] == 1


@pytest.fixture(scope="session")
def later_run(tmp_path_factory, dbt_manifest):
    """The clean sample again, run as of a day long after the year's deadline."""
    tmp = tmp_path_factory.mktemp("later")
    return _run(tmp, SAMPLE, as_of="2026-12-07")


def test_a_year_end_ranking_does_not_depend_on_the_day_it_runs(sample_published, later_run):
    _, early, _ = sample_published
    late, report = later_run
    assert report.exit_code == 0, (report.failures, report.failed_checks)
    for table, order in (
        ("unit_scores", "unit_code"),
        ("score_line_items", "unit_code, line_no"),
        ("task_lights", "task_id, quarter"),
        ("task_scores", "task_id"),
        ("unit_efficiency", "unit_code"),
    ):
        sql = f"select * from marts.{table} where year = 2023 order by {order}"
        pd.testing.assert_frame_equal(_marts(early, sql), _marts(late, sql), obj=table)
    assert set(_marts(late, "select distinct as_of from marts.unit_scores")["as_of"].astype(str)) == {"2024-01-15"}


def test_the_cli_refuses_an_acceptance_without_a_reason():
    from typer.testing import CliRunner

    from dagster_project.cli import app

    result = CliRunner().invoke(app, ["run", "--accept-incomplete", "2023", "--demo-key"])
    assert result.exit_code == 2 and "--accept-incomplete needs --reason" in result.output


def test_explain_names_the_incident_behind_a_veto_and_a_deduction(sample_published):
    import io

    from rich.console import Console

    from dagster_project.outputs.explain import explain

    _, settings, _ = sample_published
    incidents = _marts(settings, "select * from marts.unit_incidents order by incident_id")
    assert incidents[["unit_code", "incident_id", "kind", "vetoes", "deducted"]].values.tolist() == [
        ["11320100100000040W", "I1", "criticism", False, True],
        ["11320100100000059R", "I2", "veto", True, False],
    ]
    assert [float(p) for p in incidents["points"]] == [0.5, 0.0]
    assert "note" not in incidents.columns
    pages = {}
    for unit in ("11320100100000059R", "11320100100000040W"):
        for lang in ("zh", "en"):
            out = io.StringIO()
            explain(Path(settings.publish_dir), unit, 2023, Console(file=out, width=200), lang)
            pages[unit, lang] = out.getvalue()
    assert "grade 3: a veto incident puts the unit in grade 3 (incident I2)" in pages["11320100100000059R", "en"]
    assert "incident I1 (criticism): deducts 0.50" in pages["11320100100000040W", "en"]
    assert "ranking final · data complete" in pages["11320100100000040W", "en"]
    # in Chinese (the default): labels from the label tables, the ids as they are
    assert "事项 I2（一票否决）：年终定为三等" in pages["11320100100000059R", "zh"]
    assert "等次：三等：一票否决，定为三等（事项 I2）" in pages["11320100100000059R", "zh"]
    assert "事项 I1（通报批评）：扣 0.50 分" in pages["11320100100000040W", "zh"]
    assert "正式排名 · 数据完整" in pages["11320100100000040W", "zh"]
    # the one Latin word left: the staffing type inside the key of 40W's establishment row (a source key)
    latin = {
        unit: set(re.findall("[A-Za-z]{2,}", pages[unit, "zh"]))
        for unit in ("11320100100000059R", "11320100100000040W")
    }
    assert latin == {"11320100100000059R": set(), "11320100100000040W": {"administrative"}}
