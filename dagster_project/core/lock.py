"""The warehouse writer lock (docs/architecture.md, "One writer"): every process that writes the working
warehouse holds `<warehouse>.lock` first — `kaohe run`, and every run Dagster launches (the
resource `KaoheSettings` holds it from the first step to the last)."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster_project.core import settings


class WarehouseLocked(RuntimeError):
    """Another process is writing the warehouse."""


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


def process_description(pid: int) -> str:
    """`pid N (command line)` of a running process, as far as /proc tells."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        command = " ".join(a.decode("utf-8", "replace") for a in argv if a)
    except OSError:
        command = ""
    return f"pid {pid} ({command[:200]})" if command else f"pid {pid}"


_held: dict[Path, int] = {}
_held_guard = threading.Lock()


@contextmanager
def writer_lock(warehouse: Path, wait_seconds: float | None = None) -> Iterator[None]:
    """Hold `<warehouse>.lock` while writing.

    Re-entrant within a process, so a run can hold it for the whole job while each step also
    asks for it; a second process waits up to `wait_seconds` (default: settings.lock_wait_seconds),
    then fails with a message naming the holder.
    """
    wait_seconds = settings.lock_wait_seconds() if wait_seconds is None else wait_seconds
    path = lock_path(warehouse)
    with _held_guard:
        reentrant = bool(_held.get(path))
        if reentrant:
            _held[path] += 1
    if reentrant:
        try:
            yield
        finally:
            with _held_guard:
                _held[path] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    raise WarehouseLocked(
                        f"the warehouse {warehouse} is being written by {holder}; "
                        f"waited {wait_seconds:.0f} s. Try again when that run has finished."
                    ) from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{process_description(os.getpid())} since {time.strftime('%Y-%m-%d %H:%M:%S %Z')}\n")
        handle.flush()
        with _held_guard:
            _held[path] = 1
        try:
            yield
        finally:
            with _held_guard:
                _held.pop(path, None)
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()
