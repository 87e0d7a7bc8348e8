"""dbt runs in the process of the step (core/dbt_runner.py, transform/dbt_assets.KaoheDbt): no child
process, and the warehouse file is free again when the command ends, so the next step, the sensor
and readers never meet DuckDB's own lock."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dagster_project.core import dbt_runner
from dagster_project.transform.dbt_assets import dbt_resource, kaohe_dbt

OPEN_FOR_WRITING = "import duckdb, sys; duckdb.connect(sys.argv[1]).close()"


@pytest.fixture
def warehouse(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "kaohe.duckdb"  # the profile's database name: the project's parse state serves
    monkeypatch.setenv("KAOHE_WAREHOUSE", str(path))
    return path


def _seed_regions():
    return dbt_resource().cli(["seed", "--select", "reference_regions"], manifest=kaohe_dbt.manifest_path).wait()


def test_a_command_runs_in_this_process(dbt_manifest, warehouse, monkeypatch):
    started = []
    popen = subprocess.Popen

    def recording(args, *rest, **kwargs):
        started.append(args)
        return popen(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", recording)
    assert _seed_regions().success
    assert os.path.exists(warehouse)
    assert not [a for a in started if "dbt" in Path(str(a[0] if isinstance(a, list) else a)).name]


def test_the_warehouse_is_free_when_a_command_ends(dbt_manifest, warehouse):
    _seed_regions()
    other = subprocess.run([sys.executable, "-c", OPEN_FOR_WRITING, str(warehouse)], capture_output=True, text=True)
    assert other.returncode == 0, other.stderr


def test_without_closing_dbt_duckdbs_database_another_process_is_locked_out(dbt_manifest, warehouse, monkeypatch):
    """What the test above guards against: dbt-duckdb keeps its database open after a command."""
    monkeypatch.setattr(dbt_runner, "close_warehouse", lambda: None)
    try:
        _seed_regions()
        other = subprocess.run([sys.executable, "-c", OPEN_FOR_WRITING, str(warehouse)], capture_output=True, text=True)
        assert other.returncode != 0 and "lock" in other.stderr.lower()
    finally:
        monkeypatch.undo()
        dbt_runner.close_warehouse()


def test_a_failing_command_raises_a_failure_naming_dbt(dbt_manifest, warehouse):
    import dagster as dg

    with pytest.raises(dg.Failure, match="dbt run-operation failed"):
        dbt_resource().cli(["run-operation", "no_such_macro"], manifest=kaohe_dbt.manifest_path).wait()


def test_a_failing_primary_key_test_says_which_invariant_failed():
    """The failing rows of a primary_key test name their problem (dbt/macros/test_primary_key.sql,
    compiled here by hand for a table keyed by (year, unit_code) with total_score required)."""
    import duckdb

    from dagster_project.transform.dbt_assets import failing_tests

    con = duckdb.connect()
    con.execute(
        "create table unit_scores as select * from (values (2023, 'U1', 80.0), (2023, 'U1', 81.0), "
        "(2023, 'U2', null), (2023, null, 70.0), (2023, 'U3', null)) t(year, unit_code, total_score)"
    )
    compiled = (
        "select 'duplicate_key' as problem, null as column_name, count(*) as rows_sharing_key from unit_scores "
        'group by "year", "unit_code" having count(*) > 1 '
        "union all select 'null', 'year', 1 from unit_scores where \"year\" is null "
        "union all select 'null', 'unit_code', 1 from unit_scores where \"unit_code\" is null "
        "union all select 'null', 'total_score', 1 from unit_scores where \"total_score\" is null"
    )
    results = [
        {
            "status": "fail",
            "unique_id": "test.kaohe.primary_key_unit_scores",
            "compiled_code": compiled,
        },
        {"status": "pass", "unique_id": "test.kaohe.primary_key_task_scores", "compiled_code": compiled},
        {"status": "fail", "unique_id": "test.kaohe.assert_ranks_are_gapless", "compiled_code": "select 1"},
    ]
    assert failing_tests(con, results) == [
        "primary_key_unit_scores (1 duplicate key(s), total_score null in 2 row(s), unit_code null in 1 row(s))",
        "assert_ranks_are_gapless",
    ]
