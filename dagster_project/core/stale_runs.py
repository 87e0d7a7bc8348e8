"""Runs whose process is gone (docs/operations.md, "After a crash").

A run killed with `kill -9` (or by a power cut, or the out-of-memory killer) cannot record its
own end, so Dagster keeps it STARTED for ever, and the schedule and the sensor, which ask for no
run while one is in flight, would skip every tick after it. Every kaohe run therefore tags itself
with its process (host, pid, and the process's start time, so a pid reused by another process is
not taken for it) before it waits for the writer lock; at the start of every run and every
schedule or sensor tick, an in-flight run whose process is gone is marked failed, saying so.

A run of the daemon that dies before its first step (before it tagged itself) is left to
Dagster's run monitoring (dagster.yaml: `run_monitoring`, its start timeout).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import dagster as dg

PID_TAG = "kaohe/pid"
PROCESS_START_TAG = "kaohe/process_start"  # clock ticks since boot, /proc/<pid>/stat field 22
HOST_TAG = "kaohe/host"
IN_FLIGHT = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]


def process_start(pid: int) -> str | None:
    """When process `pid` started (its start time in clock ticks since boot), or None when there
    is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # fields after "pid (comm)": state is field 3


def process_tags(pid: int | None = None) -> dict[str, str]:
    """The tags naming this process (or `pid`) on a run."""
    pid = os.getpid() if pid is None else pid
    return {PID_TAG: str(pid), PROCESS_START_TAG: process_start(pid) or "", HOST_TAG: socket.gethostname()}


def process_gone(tags: dict[str, str]) -> bool:
    """Whether the process a run's tags name has ended. False when the tags name no process, or
    one on another host (nothing can be known of it from here)."""
    if PID_TAG not in tags or tags.get(HOST_TAG) != socket.gethostname():
        return False
    started = process_start(int(tags[PID_TAG]))
    return started is None or started != tags.get(PROCESS_START_TAG)


def fail_runs_whose_process_is_gone(instance: dg.DagsterInstance, by: str) -> list[str]:
    """Mark failed every in-flight run whose process is gone; returns their run ids. `by` says who
    noticed (a run, a tick), for the message."""
    failed = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=IN_FLIGHT)):
        run = record.dagster_run
        if not process_gone(run.tags):
            continue
        instance.report_run_failed(
            run,
            message=(
                f"the process of this run (pid {run.tags[PID_TAG]} on {run.tags[HOST_TAG]}) is gone: it was killed "
                f"or crashed. Marked failed by {by}. Nothing it built was published; the next run applies its "
                "deliveries."
            ),
        )
        failed.append(run.run_id)
    return failed
