"""Retention: what a publication folder and the raw schema keep (`kaohe prune`, and every run
after it publishes).

- Publications: the newest `keep` snapshots, every snapshot that published a revision of a
  final ranking (`ranking_revisions.run_id`), and whatever `current` points to; a folder holding
  only the report of a failed run goes once it is older than the newest `keep` snapshots.
- Raw loads: the rows of a load that is no longer current and was not applied by one of the
  newest `keep` deliveries are deleted (with their quarantine rows); `raw.loads` keeps its row,
  marked `pruned_at`, so the audit trail of what was delivered stays whole. A pruned file
  delivered again is loaded anew.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from dagster_project.core.settings import DEFAULT_KEEP
from dagster_project.ingest.contracts import load_contracts
from dagster_project.ingest.load import RAW, ensure_schema, raw_table
from dagster_project.publish.snapshot import SCHEMA, current_snapshot


@dataclass
class PruneResult:
    removed_runs: list[Path] = field(default_factory=list)
    pruned_loads: list[int] = field(default_factory=list)
    rows_deleted: int = 0


def _final_ranking_runs(snapshot: Path | None) -> set[str]:
    if snapshot is None:
        return set()
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
        if "ranking_revisions" not in tables:
            return set()
        return {r[0] for r in con.execute(f"select run_id from {SCHEMA}.ranking_revisions").fetchall()}
    finally:
        con.close()


def prune_publications(publish_dir: Path, keep: int) -> list[Path]:
    """Remove run folders past retention; returns what was removed."""
    runs = publish_dir / "runs"
    if not runs.is_dir():
        return []
    current = current_snapshot(publish_dir)
    current_run = current.parent if current is not None else None
    protected = _final_ranking_runs(current)
    folders = [p for p in runs.iterdir() if p.is_dir() and not p.name.startswith(".")]
    snapshots = sorted(
        (p for p in folders if (p / "kaohe.duckdb").exists()), key=lambda p: p.stat().st_mtime, reverse=True
    )
    kept = set(snapshots[:keep])
    kept |= {p for p in snapshots if p.name in protected}
    if current_run is not None:
        kept.add(current_run)
    newest = snapshots[:keep]
    oldest_kept = min((p.stat().st_mtime for p in newest), default=0.0)
    removed = []
    for folder in folders:
        if folder in kept:
            continue
        is_snapshot = (folder / "kaohe.duckdb").exists()
        if is_snapshot or folder.stat().st_mtime < oldest_kept:
            shutil.rmtree(folder)
            removed.append(folder)
    return sorted(removed)


def prune_raw(con: duckdb.DuckDBPyConnection, keep: int, now: datetime | None = None) -> tuple[list[int], int]:
    """Delete the rows of loads neither current nor applied by the newest `keep` deliveries."""
    ensure_schema(con)
    prunable = [
        r[0]
        for r in con.execute(
            f"""
            with recent as (
                select delivery from {RAW}.load_events group by delivery
                order by max(applied_at) desc limit {int(keep)}
            )
            select load_id from {RAW}.loads
            where pruned_at is null
              and load_id not in (select load_id from {RAW}.current_loads)
              and load_id not in (
                  select load_id from {RAW}.load_events where delivery in (select delivery from recent)
              )
            order by load_id
            """
        ).fetchall()
    ]
    if not prunable:
        return [], 0
    deleted = 0
    con.execute("begin transaction")
    try:
        con.execute("create temp table prunable as select unnest(?) as load_id", [prunable])
        for contract in load_contracts().values():
            table = f"{RAW}.{raw_table(contract)}"
            deleted += con.execute(f"delete from {table} where _load_id in (select load_id from prunable)").fetchall()[
                0
            ][0]
        for table in ("quarantine", "quarantine_rows"):
            con.execute(f"delete from {RAW}.{table} where load_id in (select load_id from prunable)")
        con.execute(
            f"update {RAW}.loads set pruned_at = ? where load_id in (select load_id from prunable)",
            [now or datetime.now()],
        )
        con.execute("drop table prunable")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return prunable, deleted


def prune(publish_dir: Path, warehouse: Path, keep: int = DEFAULT_KEEP) -> PruneResult:
    """Both: the caller holds the warehouse writer lock."""
    result = PruneResult(removed_runs=prune_publications(publish_dir, keep))
    if warehouse.exists():
        con = duckdb.connect(str(warehouse))
        try:
            result.pruned_loads, result.rows_deleted = prune_raw(con, keep)
        finally:
            con.close()
    return result
