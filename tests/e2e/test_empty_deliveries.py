"""Nothing publishes silently from nothing: no delivery on an empty warehouse is an error, and a
ranking with no scores for an evaluated year is blocked by the gate."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from dagster_project.core.dbt_project import MANIFEST
from dagster_project.core.settings import PROJECT_ROOT
from tests.conftest import run_dbt

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


def _changed_copy(clean_run, tmp_path: Path, *statements: str) -> Path:
    """A copy of the clean run's warehouse with `statements` applied ({first}/{second}: the first
    two units of unit_scores)."""
    warehouse = tmp_path / "kaohe.duckdb"
    shutil.copy(clean_run[0].warehouse, warehouse)
    con = duckdb.connect(str(warehouse))
    try:
        first, second = [r[0] for r in con.execute("select unit_code from marts.unit_scores limit 2").fetchall()]
        for statement in statements:
            con.execute(statement.format(first=first, second=second))
    finally:
        con.close()
    return warehouse


def test_a_ranking_without_scores_for_an_evaluated_year_fails_a_blocking_dbt_test(clean_run, tmp_path):
    settings, _ = clean_run
    warehouse = _changed_copy(
        clean_run, tmp_path, "delete from marts.unit_scores where year = (select max(year) from marts.unit_scores)"
    )
    vars_ = json.dumps({"as_of": settings.as_of})
    done = run_dbt(
        ["test", "--select", "assert_every_evaluated_year_is_scored", "--vars", vars_], warehouse, tmp_path / "t"
    )
    # the year without scores, and (the only year of this delivery) no scores at all
    assert done.returncode == 1 and "FAIL 2 assert_every_evaluated_year_is_scored" in done.stdout, done.stdout[-3000:]
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    test = next(n for n in manifest["nodes"].values() if n["name"] == "assert_every_evaluated_year_is_scored")
    assert test["config"]["severity"].lower() == "error"  # blocking: the gate refuses to publish


def test_a_null_in_a_required_mart_column_fails_the_models_not_null_test(clean_run, tmp_path):
    warehouse = _changed_copy(
        clean_run,
        tmp_path,
        "update marts.unit_scores set total_score = null where unit_code = '{first}'",
        "update marts.unit_scores set rank_in_category = null, unit_name = null, grade = null "
        "where unit_code = '{second}'",
    )
    done = run_dbt(
        ["test", "--select", "test_name:primary_key,unit_scores"], warehouse, tmp_path / "t", reuse_parse_state=True
    )
    # one failing row per null cell of a required column; unit_name and grade may be null (not in the
    # test: a grade is null before year end, and the grade rules are assert_grades_follow_rules')
    assert done.returncode == 1 and "FAIL 2 primary_key_unit_scores " in done.stdout, done.stdout[-3000:]
