"""Write–audit–publish: copy the audited marts into a new snapshot folder and switch to it.

Layout (DESIGN.md, "Published layout"):

    <publish>/runs/<run_id>/kaohe.duckdb      schema marts, DuckDB storage v1.0.0 (1.x clients open it)
    <publish>/runs/<run_id>/parquet/<t>.parquet
    <publish>/runs/<run_id>/docs/quality.html the quality report of the run
    <publish>/current -> runs/<run_id>       swapped atomically (rename of a symlink)
    <publish>/kaohe.duckdb -> current/kaohe.duckdb, <publish>/parquet -> current/parquet

A snapshot is built under a temporary name and renamed into place, so a reader never sees half
of one; a reader that keeps an old snapshot open keeps reading it, and never blocks the nightly
writer (it never opens the working warehouse).

Final rankings (METHODOLOGY §9, DESIGN.md "Failures"): once a year-end ranking of a year is
published, a later run that would change any unit's total, rank or grade of that year keeps the
published rows of the year and records the would-be differences in `ranking_drift`, unless the
run was asked to `--reopen` the year with a reason, which records a new revision.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from dagster_project.dbt_manifest import MANIFEST

STORAGE_VERSION = "v1.0.0"
SCHEMA = "marts"
STAGED = "staged"  # in-memory database where a publication is assembled before it is written
BY_YEAR, WHOLE = "by_year", "whole"  # meta.publish of a mart (dbt_project.yml, the marts' YAML)
HISTORY_DDL = {
    "ranking_revisions": (
        "year integer, revision integer, published_at timestamp, reason varchar, units_changed integer, run_id varchar",
        {
            "": "排名修订 — every published revision of a year-end (final) ranking. Grain: (year, revision).",
            "year": "考核年度",
            "revision": "修订号 — 1 is the first year-end publication",
            "published_at": "发布时间",
            "reason": "修订原因 — the --reason given with --reopen",
            "units_changed": "变动单位数 — units whose total, rank or grade changed",
            "run_id": "运行编号 — the run that published the revision",
        },
    ),
    "ranking_revision_units": (
        "year integer, revision integer, unit_code varchar, old_total decimal(9,2), new_total decimal(9,2), "
        "old_rank_in_category integer, new_rank_in_category integer, old_rank_overall integer, "
        "new_rank_overall integer, old_grade integer, new_grade integer",
        {
            "": "排名修订明细 — per unit, what a revision changed. Grain: (year, revision, unit_code).",
            "year": "考核年度",
            "revision": "修订号",
            "unit_code": "统一社会信用代码",
            "old_total": "原总分 (null in revision 1)",
            "new_total": "新总分",
            "old_rank_in_category": "原类别内排名",
            "new_rank_in_category": "新类别内排名",
            "old_rank_overall": "原组内排名",
            "new_rank_overall": "新组内排名",
            "old_grade": "原等次",
            "new_grade": "新等次",
        },
    ),
    "ranking_drift": (
        "year integer, unit_code varchar, published_total decimal(9,2), would_be_total decimal(9,2), "
        "published_rank_in_category integer, would_be_rank_in_category integer, published_rank_overall integer, "
        "would_be_rank_overall integer, published_grade integer, would_be_grade integer, detected_at timestamp",
        {
            "": "排名漂移 — what the latest data would change in a kept final ranking. Grain: (year, unit_code).",
            "year": "考核年度",
            "unit_code": "统一社会信用代码",
            "published_total": "已发布总分",
            "would_be_total": "按最新数据的总分",
            "published_rank_in_category": "已发布类别内排名",
            "would_be_rank_in_category": "按最新数据的类别内排名",
            "published_rank_overall": "已发布组内排名",
            "would_be_rank_overall": "按最新数据的组内排名",
            "published_grade": "已发布等次",
            "would_be_grade": "按最新数据的等次",
            "detected_at": "发现时间",
        },
    ),
}
COMPARED = ("total_score", "rank_in_category", "rank_overall", "grade")


@dataclass
class PublishResult:
    run_dir: Path
    tables: dict[str, int] = field(default_factory=dict)
    kept_years: dict[int, int] = field(default_factory=dict)  # final year → units that would change
    revisions: dict[int, int] = field(default_factory=dict)  # year → new revision number
    notes: list[str] = field(default_factory=list)


def remove_half_built(publish_dir: Path) -> list[Path]:
    """Remove the half-built snapshots (`runs/.<run_id>.building`) of runs that were killed; the
    caller holds the writer lock, so no other run is building one."""
    stale = sorted((publish_dir / "runs").glob(".*.building"))
    for folder in stale:
        shutil.rmtree(folder)
    return stale


def current_snapshot(publish_dir: Path) -> Path | None:
    path = publish_dir / "current" / "kaohe.duckdb"
    return path.resolve() if path.exists() else None


def _swap_symlink(link: Path, target: str) -> None:
    """Point `link` at `target` atomically: a new symlink renamed over the old one."""
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(target)
    os.replace(tmp, link)


def _ensure_stable_links(publish_dir: Path) -> None:
    for name in ("kaohe.duckdb", "parquet"):
        link = publish_dir / name
        if not link.is_symlink():
            if link.exists():
                raise RuntimeError(f"{link} exists and is not the symlink kaohe maintains")
            link.symlink_to(Path("current") / name)


def _tables(con: duckdb.DuckDBPyConnection, database: str) -> set[str]:
    rows = con.execute(
        "select table_name from duckdb_tables() where database_name = ? and schema_name = ?", [database, SCHEMA]
    ).fetchall()
    return {r[0] for r in rows}


def published_marts(manifest: Path = MANIFEST) -> dict[str, str]:
    """The dbt models to publish and how (meta.publish: by_year | whole), from dbt's manifest:
    the dbt project declares what is published, not a list kept here."""
    nodes = json.loads(manifest.read_text(encoding="utf-8"))["nodes"].values()
    return {
        node["name"]: node["config"]["meta"]["publish"]
        for node in sorted(nodes, key=lambda n: n["name"])
        if node["resource_type"] == "model" and node["config"].get("meta", {}).get("publish") in (BY_YEAR, WHOLE)
    }


def model_docs(manifest: Path = MANIFEST) -> dict[str, tuple[str, dict[str, str]]]:
    """Each dbt model's description and column descriptions, from dbt's manifest. The publication
    carries them as DuckDB comments; dbt's persist_docs would write them into the working
    warehouse on every build (hundreds of statements a run) for nobody to read there."""
    nodes = json.loads(manifest.read_text(encoding="utf-8"))["nodes"].values()
    return {
        node["name"]: (node["description"], {c: col["description"] for c, col in node["columns"].items()})
        for node in nodes
        if node["resource_type"] == "model"
    }


def _comment(con: duckdb.DuckDBPyConnection, table: str, docs: tuple[str, dict[str, str]]) -> None:
    description, columns = docs
    if description:
        con.execute(f"comment on table pub.{SCHEMA}.{table} is {_quote(description)}")
    present = {r[0] for r in con.execute(f"describe pub.{SCHEMA}.{table}").fetchall()}
    for column, text in columns.items():
        if text and column in present:
            con.execute(f'comment on column pub.{SCHEMA}.{table}."{column}" is {_quote(text)}')


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _final_changes(con: duckdb.DuckDBPyConnection, year: int) -> list[tuple]:
    """Units whose published final result differs from the new one (either side may be missing)."""
    on = " or ".join(f"old.{c} is distinct from new.{c}" for c in COMPARED)
    return con.execute(
        f"""
        select coalesce(old.unit_code, new.unit_code) as unit_code,
            old.total_score, new.total_score, old.rank_in_category, new.rank_in_category,
            old.rank_overall, new.rank_overall, old.grade, new.grade
        from (select * from prev.{SCHEMA}.unit_scores where year = $1) as old
        full outer join (select * from {STAGED}.unit_scores where year = $1) as new
            on old.unit_code = new.unit_code
        where old.unit_code is null or new.unit_code is null or {on}
        order by 1
        """,
        [year],
    ).fetchall()


def publish(
    warehouse: Path,
    publish_dir: Path,
    run_id: str,
    now: datetime | None = None,
    reopen_year: int | None = None,
    reason: str | None = None,
    only_year: int | None = None,
    demo_key: bool = False,
    as_of: str | None = None,
    inputs_fingerprint: str | None = None,
) -> PublishResult:
    """Build the snapshot of `warehouse`'s marts as run `run_id` and make it current."""
    now = now or datetime.now()
    runs = publish_dir / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    run_dir = runs / run_id
    building = runs / f".{run_id}.building"
    remove_half_built(publish_dir)
    (building / "parquet").mkdir(parents=True)
    if run_dir.exists():  # a failed gate's report of this run id: the snapshot joins it
        for item in run_dir.iterdir():
            shutil.move(str(item), building / item.name)
        run_dir.rmdir()
    previous = current_snapshot(publish_dir)
    result = PublishResult(run_dir=run_dir)

    con = duckdb.connect()
    try:
        con.execute(f"attach {_quote(str(warehouse))} as wh (read_only)")
        con.execute(f"attach {_quote(str(building / 'kaohe.duckdb'))} as pub (storage_version '{STORAGE_VERSION}')")
        if previous is not None:
            con.execute(f"attach {_quote(str(previous))} as prev (read_only)")
        con.execute(f"attach ':memory:' as {STAGED}")
        available = _tables(con, "wh")
        previous_tables = _tables(con, "prev") if previous is not None else set()
        marts = {t: how for t, how in published_marts().items() if t in available}
        year_tables = [t for t, how in marts.items() if how == BY_YEAR]
        # Tables are assembled in memory, then written once, each ordered (by its grain, the
        # leading columns): two publications of the same input are equal row by row.
        for table in marts:
            con.execute(f"create table {STAGED}.{table} as select * from wh.{SCHEMA}.{table}")
        if only_year is not None and previous is not None:
            for table in year_tables:
                if table in previous_tables:
                    con.execute(f"delete from {STAGED}.{table} where year != ?", [only_year])
                    con.execute(
                        f"insert into {STAGED}.{table} by name select * from prev.{SCHEMA}.{table} where year != ?",
                        [only_year],
                    )
        for table, (columns, _) in HISTORY_DDL.items():
            if table in previous_tables:
                con.execute(f"create table {STAGED}.{table} as select * from prev.{SCHEMA}.{table}")
            else:
                con.execute(f"create table {STAGED}.{table} ({columns})")
        _keep_final_rankings(
            con, result, previous_tables, year_tables, run_id, now, reopen_year=reopen_year, reason=reason
        )
        published = [*marts, *HISTORY_DDL]
        for table in published:
            result.tables[table] = con.execute(f"select count(*) from {STAGED}.{table}").fetchall()[0][0]
        # What this snapshot is: a reader can check it sees one whole publication.
        con.execute(
            f"create table {STAGED}.publication (run_id varchar, published_at timestamp, "
            "table_name varchar, row_count bigint, pii_key varchar, as_of date, inputs_fingerprint varchar)"
        )
        key_kind = "demo" if demo_key else "installation"
        con.executemany(
            f"insert into {STAGED}.publication values (?, ?, ?, ?, ?, ?, ?)",
            [(run_id, now, table, rows, key_kind, as_of, inputs_fingerprint) for table, rows in result.tables.items()],
        )
        con.execute(f"create schema pub.{SCHEMA}")
        for table in [*published, "publication"]:
            con.execute(f"create table pub.{SCHEMA}.{table} as select * from {STAGED}.{table} order by all")
            target = building / "parquet" / f"{table}.parquet"
            con.execute(f"copy pub.{SCHEMA}.{table} to {_quote(str(target))} (format parquet)")
        docs = model_docs()
        for table in published:
            if table in HISTORY_DDL:
                for column, doc in HISTORY_DDL[table][1].items():
                    target = f"table pub.{SCHEMA}.{table}" if not column else f"column pub.{SCHEMA}.{table}.{column}"
                    con.execute(f"comment on {target} is {_quote(doc)}")
            elif table in docs:
                _comment(con, table, docs[table])
        con.execute(
            f"comment on table pub.{SCHEMA}.publication is "
            "'发布信息 — the run that published this snapshot, when, and the rows of each table.'"
        )
        con.execute(
            f"comment on column pub.{SCHEMA}.publication.pii_key is "
            "'个人信息哈希密钥 — installation (KAOHE_PII_KEY) or demo (the public key of the sample: "
            "person hashes of a demo publication can be reversed)'"
        )
        con.execute(f"comment on column pub.{SCHEMA}.publication.as_of is '评价基准日 — the as_of of the run'")
        con.execute(
            f"comment on column pub.{SCHEMA}.publication.inputs_fingerprint is "
            "'输入指纹 — SHA-256 of the files in force, as_of, options and code the snapshot was computed from; "
            "a run with the same inputs publishes nothing new'"
        )
        con.execute("checkpoint pub")
    finally:
        con.close()
    os.replace(building, run_dir)
    _ensure_stable_links(publish_dir)
    _swap_symlink(publish_dir / "current", str(Path("runs") / run_id))
    return result


def _keep_final_rankings(
    con: duckdb.DuckDBPyConnection,
    result: PublishResult,
    previous_tables: set[str],
    year_tables: list[str],
    run_id: str,
    now: datetime,
    *,
    reopen_year: int | None,
    reason: str | None,
) -> None:
    """A published final ranking stays as published unless its year is reopened: the year's
    rows of every by-year table are taken from the previous publication and the would-be
    changes go to ranking_drift; a reopened year records a revision. Records revision 1 of a
    newly final year."""
    new_final = {
        r[0] for r in con.execute(f"select distinct year from {STAGED}.unit_scores where stage = 'year_end'").fetchall()
    }
    old_final = set()
    if "unit_scores" in previous_tables:
        old_final = {
            r[0]
            for r in con.execute(
                f"select distinct year from prev.{SCHEMA}.unit_scores where stage = 'year_end'"
            ).fetchall()
        }
    if reopen_year is not None and reopen_year not in old_final:
        result.notes.append(
            f"--reopen {reopen_year}: no final ranking of {reopen_year} was published; nothing to reopen"
        )
    for year in sorted(old_final):
        changes = _final_changes(con, year)
        if not changes:
            continue
        if year == reopen_year:
            revision = _record_revision(con, year, changes, run_id, now, reason or "reopened")
            result.revisions[year] = revision
            con.execute(f"delete from {STAGED}.ranking_drift where year = ?", [year])
            continue
        for table in year_tables:
            con.execute(f"delete from {STAGED}.{table} where year = ?", [year])
            if table in previous_tables:
                con.execute(
                    f"insert into {STAGED}.{table} by name select * from prev.{SCHEMA}.{table} where year = ?",
                    [year],
                )
        con.execute(f"delete from {STAGED}.ranking_drift where year = ?", [year])
        con.executemany(
            f"insert into {STAGED}.ranking_drift values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(year, *change, now) for change in changes],
        )
        result.kept_years[year] = len(changes)
    for year in sorted(new_final - old_final):
        rows = con.execute(
            f"select unit_code, null, total_score, null, rank_in_category, null, rank_overall, null, grade "
            f"from {STAGED}.unit_scores where year = ? order by unit_code",
            [year],
        ).fetchall()
        result.revisions[year] = _record_revision(con, year, rows, run_id, now, "first year-end publication")


def _record_revision(
    con: duckdb.DuckDBPyConnection, year: int, changes: list[tuple], run_id: str, now: datetime, reason: str
) -> int:
    revision = con.execute(
        f"select coalesce(max(revision), 0) + 1 from {STAGED}.ranking_revisions where year = ?", [year]
    ).fetchall()[0][0]
    con.execute(
        f"insert into {STAGED}.ranking_revisions values (?, ?, ?, ?, ?, ?)",
        [year, revision, now, reason, len(changes), run_id],
    )
    con.executemany(
        f"insert into {STAGED}.ranking_revision_units values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(year, revision, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]) for c in changes],
    )
    return revision
