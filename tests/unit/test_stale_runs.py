"""A run whose process is gone is marked failed by the next run of the Dagster path (the resource
every run holds), not only by `kaohe run` and the ticks (tests/e2e/test_crash.py)."""

from __future__ import annotations

import os
import subprocess

import dagster as dg

from dagster_project.core.resources import KaoheSettings
from dagster_project.core.stale_runs import HOST_TAG, PID_TAG, PROCESS_START_TAG, process_gone, process_tags


def _ended_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_a_process_is_gone_when_it_ended_or_its_pid_was_reused():
    assert not process_gone(process_tags())
    assert process_gone({**process_tags(), PROCESS_START_TAG: "1"})  # a live pid, another process's start
    assert not process_gone({**process_tags(), HOST_TAG: "elsewhere"})  # nothing known of another host
    assert not process_gone({})  # a run that never named its process


def test_a_dagster_run_marks_a_run_whose_process_is_gone_failed_at_its_start(tmp_path, monkeypatch):
    monkeypatch.setenv("KAOHE_PII_KEY", "k" * 32)
    with dg.instance_for_test() as instance:
        dead = {**process_tags(_ended_pid()), PROCESS_START_TAG: "1"}  # whichever process has the pid now
        instance.add_run(
            dg.DagsterRun(job_name="nightly", run_id="killed", status=dg.DagsterRunStatus.STARTED, tags=dead)
        )
        alive = process_tags(os.getpid())
        instance.add_run(
            dg.DagsterRun(job_name="nightly", run_id="running", status=dg.DagsterRunStatus.STARTED, tags=alive)
        )

        @dg.asset
        def step(kaohe: KaoheSettings) -> None:
            return None

        kaohe = KaoheSettings(
            sources_dir=str(tmp_path), warehouse=str(tmp_path / "kaohe.duckdb"), publish_dir=str(tmp_path / "pub")
        )
        result = dg.materialize([step], resources={"kaohe": kaohe}, instance=instance)

        assert result.success
        assert instance.get_run_by_id("killed").status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id("running").status == dg.DagsterRunStatus.STARTED
        assert instance.get_run_by_id(result.run_id).tags[PID_TAG] == str(os.getpid())
        failure = instance.get_records_for_run("killed", of_type=dg.DagsterEventType.RUN_FAILURE).records
        assert f"Marked failed by run {result.run_id} at its start" in failure[0].event_log_entry.dagster_event.message
