"""One writer on every path: a run launched by Dagster (`dagster job execute`, as the daemon
launches the schedule's and the sensor's runs) holds the warehouse writer lock from its first
step to its last, so a `kaohe run` started during its dbt build waits, and each run publishes
exactly what it ingested."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dagster_project.core.settings import PROJECT_ROOT

pytestmark = pytest.mark.e2e
SAMPLE = PROJECT_ROOT / "sources" / "sample"
BIN = Path(sys.executable).parent


def _query(database: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _unit_names(snapshot: Path) -> set[str]:
    return {r[0] for r in _query(snapshot, "select unit_name from marts.dim_unit")}


def test_a_dagster_run_and_a_kaohe_run_started_during_its_dbt_build_serialise(tmp_path, dbt_manifest):
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLE, inbox / "20240101")
    renamed = tmp_path / "renamed"
    shutil.copytree(SAMPLE, renamed)
    units = pd.read_csv(renamed / "staffing" / "units.csv", dtype=str, keep_default_na=False)
    units["unit_name"] = units["unit_name"] + "（乙）"
    units.to_csv(renamed / "staffing" / "units.csv", index=False, lineterminator="\n")
    warehouse, publish = tmp_path / "warehouse" / "kaohe.duckdb", tmp_path / "warehouse" / "published"
    env = {
        **os.environ,
        "KAOHE_SOURCES_DIR": str(inbox),
        "KAOHE_WAREHOUSE": str(warehouse),
        "KAOHE_PUBLISH_DIR": str(publish),
        "KAOHE_LOCK_WAIT_SECONDS": "600",
        "PATH": f"{BIN}:/usr/bin:/bin",
    }
    env.pop("DAGSTER_HOME", None)
    dagster_log = (tmp_path / "dagster.log").open("w")
    dagster = subprocess.Popen(
        [str(BIN / "dagster"), "job", "execute", "-m", "dagster_project.definitions", "-j", "nightly"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=dagster_log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 300
        while "Running dbt in this process: dbt build" not in (tmp_path / "dagster.log").read_text(errors="replace"):
            assert dagster.poll() is None, (tmp_path / "dagster.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the Dagster run never reached its dbt build"
            time.sleep(0.2)
        started_during_dbt = datetime.now()
        kaohe = subprocess.run(
            [str(BIN / "kaohe"), "run", "--sources", str(renamed)],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert dagster.wait(timeout=600) == 0, (tmp_path / "dagster.log").read_text()[-3000:]
    finally:
        if dagster.poll() is None:
            dagster.kill()
        dagster_log.close()
    assert kaohe.returncode == 0, kaohe.stdout[-3000:] + kaohe.stderr[-3000:]

    runs = sorted((publish / "runs").iterdir(), key=lambda p: (p / "kaohe.duckdb").stat().st_mtime)
    assert len(runs) == 2
    first, second = runs
    sample_names = set(pd.read_csv(SAMPLE / "staffing" / "units.csv", dtype=str)["unit_name"])
    assert _unit_names(first / "kaohe.duckdb") == sample_names  # the Dagster run: only its own delivery
    assert _unit_names(second / "kaohe.duckdb") == set(units["unit_name"])  # the kaohe run: the renamed one
    assert (publish / "current").resolve() == second.resolve()
    # The kaohe run loaded nothing until the Dagster run had published (it waited for the lock).
    loaded = dict(_query(warehouse, "select delivery, min(loaded_at) from raw.loads group by 1"))
    published_first = _query(first / "kaohe.duckdb", "select max(published_at) from marts.publication")[0][0]
    assert loaded["renamed"] >= published_first > started_during_dbt
