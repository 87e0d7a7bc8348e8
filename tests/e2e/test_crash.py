"""A killed run (docs/operations.md, "After a crash"): `kill -9` of `kaohe run` during its dbt build
takes dbt with it (dbt runs in its process; no process of the run is left, and the warehouse is
free at once); the run, which cannot record its own end, is marked failed at the next schedule
tick, sensor tick or run, which then go on; the next run waits for nothing and publishes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.core.settings import PROJECT_ROOT
from tests.conftest import settings_for

pytestmark = pytest.mark.e2e
SAMPLE = PROJECT_ROOT / "sources" / "sample"
BIN = Path(sys.executable).parent
AS_OF = "2024-01-31"


def _alive(pid: int) -> bool:
    """A process that has not ended (a zombie nobody reaped has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _descendants(pid: int) -> set[int]:
    """The processes started by `pid`, and theirs."""
    parents: dict[int, int] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                parents[int(proc.name)] = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        children = {p for p, pp in parents.items() if pp == parent}
        found |= children
        todo.extend(children)
    return found


def _building(logs: Path) -> bool:
    """dbt has started building nodes: its lines are in the run log (written line by line)."""
    return any(" START " in log.read_text(encoding="utf-8", errors="replace") for log in logs.glob("run-*.log"))


def _shards(env: dict[str, str]) -> set[str]:
    """The runs with an event log shard in DAGSTER_HOME."""
    return {p.stem for p in (Path(env["DAGSTER_HOME"]) / "history" / "runs").glob("*.db")} - {"index"}


def _start_and_kill(env: dict[str, str], log: Path, during_dbt: bool) -> set[int]:
    """Start `kaohe run`, kill -9 it (during its dbt build, or once its Dagster run is recorded);
    returns the processes it had started."""
    before = _shards(env)
    logs = Path(env["KAOHE_WAREHOUSE"]).parent / "logs"
    with log.open("w") as out:
        kaohe = subprocess.Popen([str(BIN / "kaohe"), "run", "--as-of", AS_OF], env=env, stdout=out, stderr=out)
    deadline = time.monotonic() + 300
    try:
        while True:
            assert kaohe.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the run never got there"
            if during_dbt and _building(logs):
                break
            if not during_dbt and _shards(env) - before:
                break  # the event log shard of its run: the run has started
            time.sleep(0.1)
        started = _descendants(kaohe.pid)
    finally:
        kaohe.send_signal(signal.SIGKILL)
        kaohe.wait()
    return started


def test_a_killed_run_takes_dbt_with_it_and_blocks_neither_schedule_sensor_nor_the_next_run(
    tmp_path, dbt_manifest, monkeypatch
):
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLE, inbox / "20240101")
    settings = settings_for(tmp_path, inbox, as_of=AS_OF)
    home = tmp_path / "dagster"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "KAOHE_RUN_HISTORY": "1",
        "KAOHE_SOURCES_DIR": settings.sources_dir,
        "KAOHE_WAREHOUSE": settings.warehouse,
        "KAOHE_PUBLISH_DIR": settings.publish_dir,
        "PATH": f"{BIN}:/usr/bin:/bin",
    }
    for name in ("DAGSTER_HOME", "KAOHE_SOURCES_DIR", "KAOHE_WAREHOUSE", "KAOHE_PUBLISH_DIR"):
        monkeypatch.setenv(name, env[name])

    # 1. killed during the dbt build: dbt dies with it, and the warehouse is free at once
    started = _start_and_kill(env, tmp_path / "first.log", during_dbt=True)
    deadline = time.monotonic() + 15  # SIGKILL is at once; the machine may be busy
    while any(_alive(p) for p in started) and time.monotonic() < deadline:
        time.sleep(0.1)
    dbt_outlived_the_run = any(_alive(p) for p in started)
    opened = subprocess.run(
        [sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1]).close()", settings.warehouse],
        capture_output=True,
        text=True,
    )
    assert opened.returncode == 0, opened.stderr

    from dagster_project.ops.schedules import new_delivery_sensor, nightly_schedule

    with dg.DagsterInstance.from_config(str(home)) as instance:
        (killed,) = instance.get_run_records()
        assert killed.dagster_run.status == dg.DagsterRunStatus.STARTED  # it could not record its end
        # the schedule's tick marks it failed and asks for a run; the sensor's tick goes on too
        with dg.build_schedule_context(instance=instance) as context:
            tick = nightly_schedule(context)
        failed = instance.get_run_by_id(killed.dagster_run.run_id)
        assert (dbt_outlived_the_run, type(tick).__name__, failed.status) == (
            False,
            "RunRequest",
            dg.DagsterRunStatus.FAILURE,
        )
        failure = instance.get_records_for_run(failed.run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
        assert "is gone: it was killed or crashed" in failure[0].event_log_entry.dagster_event.message
        skip = new_delivery_sensor(dg.build_sensor_context(instance=instance))
        assert "still queued or running" not in str(skip.skip_message)

    # 2. killed as it starts, then `kaohe run` (in this process): it marks that run failed, waits
    # for nobody (no dbt left writing) and publishes
    _start_and_kill(env, tmp_path / "second.log", during_dbt=False)
    from dagster_project.runner import run_nightly

    report = run_nightly(settings, history=True)
    assert report.exit_code == 0, (report.failures, report.failed_checks)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        statuses = sorted(r.dagster_run.status.value for r in instance.get_run_records())
    assert statuses == ["FAILURE", "FAILURE", "SUCCESS"]
    assert sum("marked failed: its process is gone" in w for w in report.warnings) == 1
