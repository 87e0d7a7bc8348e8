"""The dbt that kaohe starts as a child process (`kaohe-dbt`: the scratch builds of `kaohe whatif`
and `kaohe stability`; the nightly runs dbt in its own process) dies with the process that started
it, even when that one is killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from dagster_project.core.dbt_project import dbt_executable

CHILD = "from dagster_project.core.dbt_child import die_with_parent; die_with_parent(); import time; time.sleep(60)"


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_the_dbt_child_dies_when_its_parent_is_killed():
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import os, subprocess, sys
            env = {{**os.environ, "KAOHE_DBT_PARENT": str(os.getpid())}}
            child = subprocess.Popen([sys.executable, "-c", {CHILD!r}], env=env)
            print(child.pid, flush=True)
            child.wait()
            """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    child = int(parent.stdout.readline())
    time.sleep(1.0)  # the child has set its death signal
    assert _alive(child)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


def test_a_child_whose_parent_is_already_gone_exits():
    run = subprocess.run(
        [sys.executable, "-c", CHILD], env={**os.environ, "KAOHE_DBT_PARENT": "1"}, capture_output=True, text=True
    )
    assert run.returncode == 1 and "is gone" in run.stderr


def test_the_scratch_builds_start_kaohe_dbt():
    assert Path(dbt_executable()).name == "kaohe-dbt"
