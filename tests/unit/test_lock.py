"""One writer: a second process waits for the warehouse lock, then fails with a clear message."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from dagster_project.core.lock import WarehouseLocked, writer_lock


def test_second_writer_fails_clearly_while_the_first_holds_the_lock(tmp_path):
    warehouse = tmp_path / "kaohe.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sys, time
            from pathlib import Path
            from dagster_project.core.lock import writer_lock
            with writer_lock(Path({str(warehouse)!r})):
                print("held", flush=True)
                time.sleep(30)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(WarehouseLocked, match="is being written by pid"), writer_lock(warehouse, wait_seconds=0.5):
            pass
    finally:
        holder.kill()
        holder.wait()
    with writer_lock(warehouse, wait_seconds=0.5), writer_lock(warehouse):  # free again, and re-entrant
        pass
