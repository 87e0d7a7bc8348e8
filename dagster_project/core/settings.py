"""Paths and keys from the environment (docs/architecture.md, "Environment")."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt"
PACKAGE_DIR = str(PROJECT_ROOT / "dagster_project")  # a warning raised from here is kaohe's own
DEMO_PII_KEY = "kaohe-demo-key-not-for-production"  # public: only for the sample
MIN_PII_KEY_BYTES = 32
MIN_ROWS_SHARE = 0.5  # a table under this share of its current load's rows is refused
DEFAULT_KEEP = 30  # publications (and deliveries' raw loads) kept after each run
DEFAULT_LOCK_WAIT_SECONDS = 60.0  # how long a second writer waits for the warehouse


def _path(variable: str, default: str) -> Path:
    value = Path(os.environ.get(variable) or default)
    return value if value.is_absolute() else (Path.cwd() / value).resolve()


def sources_dir() -> Path:
    return _path("KAOHE_SOURCES_DIR", "sources/landing")


def warehouse_path() -> Path:
    return _path("KAOHE_WAREHOUSE", "warehouse/kaohe.duckdb")


def publish_dir() -> Path:
    return _path("KAOHE_PUBLISH_DIR", "warehouse/published")


def min_rows_share() -> float:
    return float(os.environ.get("KAOHE_MIN_ROWS_SHARE") or MIN_ROWS_SHARE)


def keep() -> int:
    return int(os.environ.get("KAOHE_KEEP") or DEFAULT_KEEP)


def lock_wait_seconds() -> float:
    return float(os.environ.get("KAOHE_LOCK_WAIT_SECONDS") or DEFAULT_LOCK_WAIT_SECONDS)


class MissingPiiKey(RuntimeError):
    """No usable key for the personal-data hash: nothing may be ingested or published."""


HOW_TO_SET_KEY = (
    "set KAOHE_PII_KEY to a secret of at least 32 bytes, kept for the life of the installation, e.g. "
    "export KAOHE_PII_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
)


def pii_key(demo: bool = False) -> bytes:
    """The key of the personal-data hash (HMAC-SHA256), from KAOHE_PII_KEY.

    A key shorter than `MIN_PII_KEY_BYTES` would let anyone with the register's structure (birth
    date, region and gender stored beside the hash) reverse ID numbers by brute force, and the
    demo key is public: both are refused. `demo=True` (kaohe demo, `make run` on the embedded
    sample, the tests) uses the demo key instead, with a warning; the publication records it.
    """
    if demo:
        warnings.warn(
            "personal data are hashed with the public demo key: fine for the sample, never for real deliveries",
            stacklevel=2,
        )
        return DEMO_PII_KEY.encode("utf-8")
    key = os.environ.get("KAOHE_PII_KEY", "").encode("utf-8")
    if not key:
        raise MissingPiiKey(f"KAOHE_PII_KEY is not set: {HOW_TO_SET_KEY}")
    if key == DEMO_PII_KEY.encode("utf-8"):
        raise MissingPiiKey(f"KAOHE_PII_KEY is the public demo key: {HOW_TO_SET_KEY}")
    if len(key) < MIN_PII_KEY_BYTES:
        raise MissingPiiKey(f"KAOHE_PII_KEY has {len(key)} bytes, fewer than {MIN_PII_KEY_BYTES}: {HOW_TO_SET_KEY}")
    return key
