"""Errors are never hidden: an unexpected exception in a step reaches the summary as itself, its
traceback reaches the run log, and ingestion records it in raw.load_failures."""

from __future__ import annotations

import os

import duckdb
import pytest
from dagster._utils.error import SerializableErrorInfo

from dagster_project.core.errors import describe_error
from dagster_project.core.settings import PROJECT_ROOT
from dagster_project.runner import run_nightly
from tests.conftest import settings_for

pytestmark = pytest.mark.e2e
SAMPLE = PROJECT_ROOT / "sources" / "sample"


def test_an_unexpected_exception_shows_itself_in_the_summary_the_log_and_load_failures(
    tmp_path, monkeypatch, dbt_manifest
):
    from dagster_project.ingest import load

    def broken(*_args, **_kwargs):
        raise IndexError("planted: list index out of range")

    monkeypatch.setattr(load, "_load_table", broken)
    settings = settings_for(tmp_path, SAMPLE)
    report = run_nightly(settings)

    assert report.exit_code == 1 and report.published is None
    # the three systems failed alike: one line names them all
    assert report.failures == [
        "ingest_finance, ingest_performance, ingest_staffing: IndexError: planted: list index out of range"
    ]
    log = report.log.read_text(encoding="utf-8")
    assert 'test_errors.py", line' in log and "in broken" in log and "IndexError: planted" in log  # the traceback
    assert "ingest_finance" in log  # Dagster's own log lines are in the run log too
    con = duckdb.connect(settings.warehouse, read_only=True)
    try:
        failures = con.execute("select system, problem from raw.load_failures order by system").fetchall()
    finally:
        con.close()
    assert ("staffing", "IndexError: planted: list index out of range") in failures


def test_a_duckdb_lock_conflict_names_the_process_that_holds_it():
    pid = os.getpid()
    error = SerializableErrorInfo(
        message="dagster._core.errors.DagsterExecutionStepExecutionError: Error occurred while executing op",
        stack=[],
        cls_name="DagsterExecutionStepExecutionError",
        cause=SerializableErrorInfo(
            message=f'IO Error: Could not set lock on file "/w/kaohe.duckdb": Conflicting lock is held in '
            f"/usr/bin/python3 (PID {pid}) by user root.",
            stack=[],
            cls_name="IOException",
        ),
    )
    description = describe_error(error)
    assert description.startswith("IOException: IO Error: Could not set lock")
    # this test's own process holds the "lock": its command line is named (python, with pytest's
    # arguments, or an xdist worker's)
    holder = description.split(f"the holder is pid {pid} (", 1)[1]
    assert "python" in holder and holder.endswith(")")
