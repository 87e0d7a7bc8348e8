"""Whether a run has anything to build (docs/operations.md, "A run with nothing new").

The decision looks at the warehouse's own state first: `state.builds` records the inputs
fingerprint (core/fingerprint.py) of every dbt build that completed on this warehouse. A run
skips dbt, the gate and publishing only when the last build of this very warehouse and the
publication in force were both made from the inputs the run has now. A new or rebuilt warehouse
(moved away, deleted) has no build recorded, so it builds — and snapshots the register of the
last delivery it applied — even when the publication's inputs are the same; without that, a
rebuild would lose the last delivery's register version (docs/operations.md, "Rebuilding").
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from dagster_project.core.fingerprint import NOTHING_NEW, publication_in_force

SCHEMA = "state"


def ensure_builds(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {SCHEMA}")
    con.execute(f"create table if not exists {SCHEMA}.builds (fingerprint varchar, run_id varchar, built_at timestamp)")


def last_build(con: duckdb.DuckDBPyConnection) -> str | None:
    """The inputs fingerprint of the last dbt build completed on this warehouse, if any."""
    ensure_builds(con)
    row = con.execute(f"select fingerprint from {SCHEMA}.builds order by built_at desc limit 1").fetchone()
    return row[0] if row else None


def record_build(con: duckdb.DuckDBPyConnection, fingerprint: str, run_id: str) -> None:
    ensure_builds(con)
    con.execute(f"insert into {SCHEMA}.builds values (?, ?, ?)", [fingerprint, run_id, datetime.now()])


def nothing_new(con: duckdb.DuckDBPyConnection, fingerprint: str, publish_dir: Path, as_of: str) -> str | None:
    """Why a run with inputs `fingerprint` has nothing to build, or None when it must build."""
    if last_build(con) != fingerprint:
        return None
    in_force = publication_in_force(publish_dir)
    if in_force is None or in_force.fingerprint != fingerprint:
        return None
    return (
        f"{NOTHING_NEW}: the files in force, as_of {as_of}, the options and the code are those of this "
        f"warehouse's last build and of publication {in_force.run_id}; dbt build, the gate and publishing "
        "are skipped (--force redoes them)"
    )
