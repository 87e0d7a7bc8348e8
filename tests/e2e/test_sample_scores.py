"""The committed hand-built sample (sources/sample, README there): unit_scores to the cent."""

from __future__ import annotations

import json
from decimal import Decimal

import duckdb
import pytest

from dagster_project.core.settings import PROJECT_ROOT
from dagster_project.runner import run_nightly
from tests.conftest import settings_for
from tests.sample_units import U1, U2, U3, U4, U5, U6

pytestmark = pytest.mark.e2e

SAMPLE = PROJECT_ROOT / "sources" / "sample"
# unit: (E, N, qualitative, base, bonus, deductions, total, rank in category, rank overall, grade, vetoed)
EXPECTED = {
    U1: (6, 2, "80.50", "83.06", "0.00", "1.10", "81.96", 3, 3, 2, False),
    U2: (6, 2, "90.00", "72.77", "0.00", "0.00", "72.77", 5, 5, 2, False),
    U3: (3, 1, "90.00", "72.77", "0.00", "0.00", "72.77", 4, 4, 2, False),
    U4: (9, 3, "91.50", "83.47", "1.00", "2.00", "82.47", 2, 2, 1, False),
    U5: (6, 2, "100.00", "87.08", "0.00", "0.00", "87.08", 1, 1, 3, True),
    U6: (5, 1, "0.00", "44.92", "0.00", "1.20", "43.72", 1, 6, 3, False),
}


@pytest.fixture(scope="module")
def sample_run(sample_published):
    _, settings, _ = sample_published
    con = duckdb.connect(settings.warehouse, read_only=True)
    yield con
    con.close()


def test_unit_scores_match_the_hand_computation(sample_run):
    rows = sample_run.execute(
        "select unit_code, establishment, required_key_tasks, qualitative_score, base_score, bonus, deductions, "
        "total_score, rank_in_category, rank_overall, grade, vetoed, stage, parameter_year from marts.unit_scores"
    ).fetchall()
    got = {r[0]: r[1:12] for r in rows}
    expected = {
        code: (e, n, *(Decimal(v) for v in (qualitative, base, bonus, deductions, total)), rc, ro, grade, vetoed)
        for code, (e, n, qualitative, base, bonus, deductions, total, rc, ro, grade, vetoed) in EXPECTED.items()
    }
    assert got == expected
    assert {(r[12], r[13]) for r in rows} == {("year_end", 2023)}


def test_achievements_of_the_hand_computation(sample_run):
    s = dict(
        (r[0], r[1:])
        for r in sample_run.execute(
            "select unit_code, s_key_work, s_reform, s_fiscal, s_market_service, s_grassroots_service, s_excellence "
            "from marts.unit_scores"
        ).fetchall()
    )
    assert s[U1][:2] == (0.85, 0.75) and s[U1][3:] == (1.0, 1.0, pytest.approx(0.9))
    assert s[U1][2] == pytest.approx(0.4 * (114300 / 130000) / 0.95 + 0.1 + 0.15 / 6 + 0.15 * 0.9, abs=1e-12)
    assert s[U2] == (1.0, None, pytest.approx(0.3), None, None, 0.0)  # not applicable → null
    assert s[U4][0] == pytest.approx(2 / 3) and s[U4][2] == 1.0


def test_line_items_reconcile_and_name_their_sources(sample_run):
    lines = sample_run.execute(
        "select code, item_key, points, source_keys from marts.score_line_items where unit_code = ? order by line_no",
        [U4],
    ).fetchall()
    assert [(c, k) for c, k, _, _ in lines] == [
        ("key_work", ""), ("reform", ""), ("fiscal", ""), ("excellence", ""), ("qualitative", ""),
        ("voluntary_reduction", ""), ("red_light", "T403"), ("false_report", "T403"), ("incident", "I1"),
    ]  # fmt: skip
    assert sum(p for _, _, p, _ in lines) == pytest.approx(82.46666666666667, abs=1e-9)
    sources = {c: json.loads(s) for c, _, _, s in lines}
    assert sources["key_work"] == {"performance.tasks": ["T401", "T402", "T403"]}
    assert sources["false_report"]["performance.progress"] == ["T403+2:2023-07-05"]
    assert sources["incident"] == {"performance.incidents": ["I1"]}
    assert sources["voluntary_reduction"]["doc_no"] == ["宁编〔2023〕9号"]
    assert sources["excellence"] == {"performance.awards": ["A3"]}


def test_lights_negative_list_and_task_status(sample_run):
    lights = dict(
        ((t, q), (light, reason))
        for t, q, light, reason in sample_run.execute(
            "select task_id, quarter, light, reason from marts.task_lights"
        ).fetchall()
    )
    assert lights[("T101", 1)] == ("green", "on_schedule")
    assert lights[("T101", 3)] == ("red", "not_reported")  # reported 20 days after the quarter
    assert lights[("T103", 4)] == ("yellow", "behind_schedule")
    assert lights[("T102", 4)] == ("red", "far_behind_schedule")
    assert lights[("T403", 2)] == ("red", "false_report")
    assert lights[("T404", 4)] == ("green", "on_schedule")  # gap exactly 10
    assert ("T106", 4) not in lights and ("T107", 4) not in lights  # not eligible: no lights
    negative = set(sample_run.execute("select unit_code, item_key, kind from marts.negative_list").fetchall())
    assert negative == {(U1, "T106", "outside_statutory_duty"), (U6, "Z02", "missing_core_duty")}
    status = dict(sample_run.execute("select task_id, status from marts.task_scores").fetchall())
    assert (status["T106"], status["T107"], status["T101"]) == ("outside_statutory_duty", "not_approved", "eligible")


def test_an_interim_run_is_marked_with_its_stage(tmp_path, dbt_manifest):
    settings = settings_for(tmp_path, SAMPLE, as_of="2023-07-20")
    report = run_nightly(settings)
    assert report.exit_code == 0, (report.failures, report.failed_checks)
    con = duckdb.connect(settings.warehouse, read_only=True)
    try:
        stages = con.execute("select distinct stage from marts.unit_scores").fetchall()
        # grades are a year-end result (docs/methodology.md §9): ranks, but no grade and no grade-1 places
        graded = con.execute(
            "select distinct ranking_status, grade, grade1_slots, count(*) over () from marts.unit_scores"
        ).fetchall()
        favour = con.execute(
            "select unit_code from marts.staffing_signals where signal = 'favour' order by 1"
        ).fetchall()
        completion = con.execute("select completion from marts.task_scores where task_id = 'T101'").fetchall()
        quarters = con.execute("select max(quarter) from marts.task_lights").fetchall()
    finally:
        con.close()
    assert stages == [("half_year",)]
    assert graded == [("interim", None, None, 6)]
    assert favour == [(U4,), (U5,)]  # from their national awards only, until year end
    assert report.ranking["years"][0]["status"] == "interim"
    assert completion == [(0.5,)]  # the Q2 report (5 of 10), later reports not yet dated
    assert quarters == [(2,)]


def test_efficiency_and_signals_of_the_sample(sample_run):
    row = sample_run.execute(
        "select establishment_as_of, headcount, establishment_use, over_establishment_total, weighted_tasks, "
        "weighted_completion, spend, spend_per_completed_weighted_task, workload_saturation "
        "from marts.unit_efficiency where unit_code = ?",
        [U1],
    ).fetchall()[0]
    # 7 people on 6 posts; Σ d = 1.2 + 1 + 1 + 0.8 + 1; Σ d·c = 1.2 + 0.5 + 0.75 + 0.8 + 1; 5 tasks × 6 person-months
    assert row[:2] == (6, 7) and row[2] == pytest.approx(7 / 6) and row[3] == 1
    assert row[4] == pytest.approx(5.0) and row[5] == pytest.approx(4.25) and row[6] == 114300.0
    assert row[7] == pytest.approx(114300 / 4.25) and row[8] == pytest.approx(30 / 84)
    signals = set(sample_run.execute("select unit_code, signal from marts.staffing_signals").fetchall())
    assert {(U1, "compliance"), (U4, "favour"), (U5, "favour")} <= signals
    checks = sample_run.execute('select unit_code, "check", subject_key from marts.register_crosschecks').fetchall()
    assert checks == [(U1, "task_division_inactive", "T104")]
