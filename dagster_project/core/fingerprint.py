"""What a publication was computed from, as one digest: a run whose inputs equal those of the
publication in force has nothing new to publish, and skips dbt, the gate and publishing.

The inputs are the content of every file in force (its SHA-256, per table), the evaluation date,
the options that change what is published (reopen, only-year, demo key, which PII key), and the
code: the dbt project, the expectations, the contracts and kaohe's own Python. A change to any of
them makes the next run compute and publish again; `kaohe run --force` does so regardless.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb

from dagster_project.core.settings import DBT_PROJECT_DIR, PROJECT_ROOT

NOTHING_NEW = "nothing new since the publication in force"

# The files whose content decides what a run publishes, beside the deliveries.
CODE_FILES = (
    (DBT_PROJECT_DIR, ("dbt_project.yml", "models/**/*", "macros/**/*", "seeds/**/*", "snapshots/**/*", "tests/**/*")),
    (PROJECT_ROOT / "expectations", ("*.json",)),
    (PROJECT_ROOT / "sources" / "contracts", ("**/*.yml",)),
    (PROJECT_ROOT / "dagster_project", ("**/*.py",)),
)


@cache
def code_digest() -> str:
    """SHA-256 over the path and content of every file that decides the published result."""
    digest = hashlib.sha256()
    for root, patterns in CODE_FILES:
        files = sorted({p for pattern in patterns for p in root.glob(pattern) if p.is_file()})
        for path in files:
            if "__pycache__" in path.parts:
                continue
            digest.update(str(path.relative_to(PROJECT_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def inputs_fingerprint(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: str,
    pii_key: bytes,
    demo_key: bool,
    reopen_year: int | None,
    reopen_reason: str,
    only_year: int | None,
    accept_year: int | None = None,
    accept_reason: str = "",
) -> str:
    """The digest of what a run on this warehouse would publish from (see the module docstring)."""
    loads = con.execute(
        "select c.table_name, l.file_sha256 from raw.current_loads c join raw.loads l using (load_id) order by all"
    ).fetchall()
    inputs = {
        "files": loads,
        "as_of": as_of,
        "code": code_digest(),
        "pii_key": hashlib.sha256(pii_key).hexdigest(),
        "demo_key": demo_key,
        "reopen": [reopen_year, reopen_reason] if reopen_year is not None else None,
        "only_year": only_year,
    }
    if accept_year is not None:  # --accept-incomplete changes what is published
        inputs["accept_incomplete"] = [accept_year, accept_reason]
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Publication:
    run_id: str
    fingerprint: str | None  # None for publications made before kaohe recorded it


def publication_in_force(publish_dir: Path) -> Publication | None:
    """The run and the inputs of the publication `current` points to, if any."""
    path = publish_dir / "current" / "kaohe.duckdb"
    if not path.exists():
        return None
    con = duckdb.connect(str(path), read_only=True)
    try:
        columns = {r[0] for r in con.execute("describe marts.publication").fetchall()}
        fingerprint = "inputs_fingerprint" if "inputs_fingerprint" in columns else "null"
        row = con.execute(f"select any_value(run_id), any_value({fingerprint}) from marts.publication").fetchone()
    except duckdb.Error:
        return None
    finally:
        con.close()
    return Publication(run_id=row[0], fingerprint=row[1]) if row and row[0] else None
