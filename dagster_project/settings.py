"""Paths and keys from the environment (DESIGN.md, "Environment"), and the warehouse writer lock."""

from __future__ import annotations

import fcntl
import os
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt"
DEMO_PII_KEY = "kaohe-demo-key-not-for-production"
LOCK_WAIT_SECONDS = float(os.environ.get("KAOHE_LOCK_WAIT_SECONDS", "60"))


def _path(variable: str, default: str) -> Path:
    value = Path(os.environ.get(variable) or default)
    return value if value.is_absolute() else (Path.cwd() / value).resolve()


def sources_dir() -> Path:
    return _path("KAOHE_SOURCES_DIR", "sources/landing")


def warehouse_path() -> Path:
    return _path("KAOHE_WAREHOUSE", "warehouse/kaohe.duckdb")


def publish_dir() -> Path:
    return _path("KAOHE_PUBLISH_DIR", "warehouse/published")


def pii_key() -> bytes:
    key = os.environ.get("KAOHE_PII_KEY")
    if not key:
        warnings.warn(
            "KAOHE_PII_KEY is not set: personal data are hashed with the fixed demo key. "
            "Set a secret key for an installation (changing it later re-keys every person).",
            stacklevel=2,
        )
        key = DEMO_PII_KEY
    return key.encode("utf-8")


class WarehouseLocked(RuntimeError):
    """Another process is writing the warehouse."""


_held: dict[Path, int] = {}
_held_guard = threading.Lock()


@contextmanager
def writer_lock(warehouse: Path, wait_seconds: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
    """Hold `<warehouse>.lock` while writing (DESIGN.md, "One writer").

    Re-entrant within a process, so `kaohe run` can hold it for the whole job while each step
    also asks for it; a second process waits up to `wait_seconds`, then fails clearly.
    """
    lock_path = warehouse.with_name(warehouse.name + ".lock")
    with _held_guard:
        if _held.get(lock_path):
            _held[lock_path] += 1
            reentrant = True
        else:
            reentrant = False
    if reentrant:
        try:
            yield
        finally:
            with _held_guard:
                _held[lock_path] -= 1
        return
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = lock_path.open("a+")
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
        handle.write(f"pid {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        handle.flush()
        with _held_guard:
            _held[lock_path] = 1
        try:
            yield
        finally:
            with _held_guard:
                _held.pop(lock_path, None)
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()
