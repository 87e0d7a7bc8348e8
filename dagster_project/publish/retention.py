"""Retention: what a publication folder and the raw schema keep (`kaohe prune`, and every run
after it publishes).

- Publications: the newest `keep` snapshots, every snapshot that published a revision of a
  final ranking (`ranking_revisions.run_id`), and whatever `current` points to; a folder holding
  only the report of a failed run goes once it is older than the newest `keep` snapshots; the
  folder of a run that was killed before it finished (no quality report, or one that says the
  gate passed but the snapshot was never switched in) goes at once: it never became current.
- Raw loads: the rows of a load that is no longer current and was not applied by one of the
  newest `keep` deliveries are deleted (with their quarantine rows); `raw.loads` keeps its row,
  marked `pruned_at`, so the audit trail of what was delivered stays whole. A pruned file
  delivered again is loaded anew.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from dagster_project.core.settings import DEFAULT_KEEP
from dagster_project.ingest.contracts import load_contracts
from dagster_project.ingest.load import RAW, ensure_schema, raw_table
from dagster_project.publish.snapshot import SCHEMA, current_snapshot
from dagster_project.quality.report import HISTORY_FILE, VERDICT_PASSED_NOT_PUBLISHED


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


def _last_verdicts(publish_dir: Path) -> dict[str, str]:
    """Each run's last verdict in the reports' history (quality/report.py: every report written
    records one)."""
    history = publish_dir / HISTORY_FILE
    verdicts = {}
    if history.exists():
        for line in history.read_text(encoding="utf-8").splitlines():
            try:
                point = json.loads(line)
            except json.JSONDecodeError:  # a line cut by a killed run
                continue
            verdicts[point.get("run_id")] = point.get("verdict")
    return verdicts


def never_finished(folder: Path, verdicts: dict[str, str]) -> bool:
    """A run folder of a run killed before it finished: no quality report at all (killed during
    the gate), or the gate's "passed, not published" as its last word (killed while publishing)."""
    if not (folder / "docs" / "quality.html").exists():
        return True
    return verdicts.get(folder.name) == VERDICT_PASSED_NOT_PUBLISHED


def prune_publications(publish_dir: Path, keep: int) -> list[Path]:
    """Remove run folders past retention, and those of runs that never finished; returns what was
    removed. The caller holds the writer lock, so no run is writing a folder meanwhile."""
    runs = publish_dir / "runs"
    if not runs.is_dir():
        return []
    current = current_snapshot(publish_dir)
    current_run = current.parent if current is not None else None
    protected = _final_ranking_runs(current)
    folders = [p for p in runs.iterdir() if p.is_dir() and not p.name.startswith(".")]
    verdicts = _last_verdicts(publish_dir)
    orphans = {p for p in folders if p != current_run and p.name not in protected and never_finished(p, verdicts)}
    folders_left = [p for p in folders if p not in orphans]
    snapshots = sorted(
        (p for p in folders_left if (p / "kaohe.duckdb").exists()), key=lambda p: p.stat().st_mtime, reverse=True
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
        if folder in orphans or is_snapshot or folder.stat().st_mtime < oldest_kept:
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
