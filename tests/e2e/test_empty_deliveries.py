"""Nothing publishes silently from nothing: no delivery on an empty warehouse is an error, and a
ranking with no scores for an evaluated year is blocked by the gate."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dagster_project.runner import run_nightly
from dagster_project.settings import PROJECT_ROOT
from tests.conftest import settings_for

pytestmark = pytest.mark.e2e
SAMPLE = PROJECT_ROOT / "sources" / "sample"


def test_no_delivery_on_an_empty_warehouse_fails_and_names_the_folders_waiting_for_ready(tmp_path, dbt_manifest):
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLE, inbox / "20240101")
    (inbox / "20240101" / "_READY").unlink()  # still being copied, as far as kaohe can tell
    run = subprocess.run(
        [str(Path(sys.executable).with_name("kaohe")), "run", "--sources", str(inbox),
         "--warehouse", str(tmp_path / "w" / "kaohe.duckdb"), "--publish", str(tmp_path / "w" / "published")],
        capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "COLUMNS": "300",
                                             "KAOHE_PII_KEY": "k" * 32},
    )  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr
    out = " ".join(run.stdout.split())  # the summary may wrap on a narrow terminal
    assert f"no delivery found in {inbox}" in out and "skipped for lack of _READY: 20240101" in out
    assert out.count("no delivery found") == 1  # one line for the three ingestion steps that failed alike
    assert "published:" not in out and not (tmp_path / "w" / "published" / "current").exists()


def test_a_ranking_without_scores_for_an_evaluated_year_is_blocked(tmp_path, dbt_manifest):
    delivery = tmp_path / "delivery"
    shutil.copytree(SAMPLE, delivery)
    roster = delivery / "performance" / "roster.csv"
    roster.write_text(roster.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    settings = settings_for(tmp_path, delivery, accept_shrink=["roster"])
    report = run_nightly(settings)
    assert report.exit_code == 1 and report.published is None
    failed = {c.name for c in report.failed_checks}
    assert "assert_every_evaluated_year_is_scored" in failed
