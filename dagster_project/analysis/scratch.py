"""dbt on a scratch warehouse: the what-if and the grade certainty recompute with the project's own
models (docs/methodology.md §14) in a throw-away DuckDB file, never in the working warehouse or
the publication."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from tempfile import mkdtemp

import duckdb

from dagster_project.core.dbt_child import PARENT_ENV
from dagster_project.core.dbt_project import adopt_parse_state, dbt_executable
from dagster_project.core.settings import DBT_PROJECT_DIR


class AnalysisError(RuntimeError):
    """A what-if or grade-certainty request that cannot be answered; the message says why."""


@contextmanager
def scratch_folder(prefix: str) -> Iterator[Path]:
    folder = Path(mkdtemp(prefix=f"kaohe-{prefix}-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def read_only(path: Path, what: str) -> duckdb.DuckDBPyConnection:
    """A read-only connection, or a clear error (missing file, a writer holding it)."""
    if not path.exists():
        raise AnalysisError(f"{what} {path} does not exist")
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise AnalysisError(f"cannot open {what} {path} read-only ({exc}); is a run writing it?") from None


def published_year(publish_dir: Path, year: int) -> tuple[Path, str]:
    """The published DuckDB file and the evaluation date of its ranking of `year`."""
    path = publish_dir / "kaohe.duckdb"
    con = read_only(path, "the publication")
    try:
        row = con.execute("select min(as_of), count(*) from marts.unit_scores where year = ?", [year]).fetchone()
    finally:
        con.close()
    if not row or not row[1]:
        raise AnalysisError(f"the publication {path} has no ranking of {year}")
    return path.resolve(), row[0].isoformat()


def run_dbt(warehouse: Path, args: Sequence[str], env: Mapping[str, str]) -> None:
    """`dbt <args>` of this environment on `warehouse`, in its own target folder beside it, starting
    from the project's parse state (adopted for this warehouse, so dbt parses only what changed)."""
    target = warehouse.parent / "dbt-target"
    target.mkdir(exist_ok=True)
    adopt_parse_state(warehouse, into=target / "partial_parse.msgpack")
    result = subprocess.run(
        [dbt_executable(), *args, "--target-path", str(target), "--log-path", str(target),
         "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)],
        capture_output=True, text=True, check=False,
        env={**os.environ, **env, "KAOHE_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
             PARENT_ENV: str(os.getpid())},
    )  # fmt: skip
    if result.returncode != 0:
        errors = [line for line in result.stdout.splitlines() if "Error" in line or "error" in line]
        raise AnalysisError("dbt failed on the scratch warehouse: " + " | ".join(errors[-6:] or [result.stdout[-800:]]))
