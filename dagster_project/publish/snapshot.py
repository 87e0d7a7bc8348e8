"""Write–audit–publish: copy the audited marts into a new snapshot folder and switch to it.

Layout (docs/architecture.md, "Published layout"):

    <publish>/runs/<run_id>/kaohe.duckdb      schema marts, DuckDB storage v1.0.0 (1.x clients open it)
    <publish>/runs/<run_id>/parquet/<t>.parquet
    <publish>/runs/<run_id>/docs/quality.html the quality report of the run
    <publish>/current -> runs/<run_id>       swapped atomically (rename of a symlink)
    <publish>/kaohe.duckdb -> current/kaohe.duckdb, <publish>/parquet -> current/parquet

A snapshot is built under a temporary name and renamed into place, so a reader never sees half
of one; a reader that keeps an old snapshot open keeps reading it, and never blocks the nightly
writer (it never opens the working warehouse).

Final rankings (docs/methodology.md §9, docs/architecture.md "Failures"): once a final year-end ranking of a
year is published, a later run that would change any unit's total, rank or grade of that year keeps the
published rows of the year and records the would-be differences in `ranking_drift`, unless the
run was asked to `--reopen` the year with a reason, which records a new revision. A provisional
year-end ranking (some unit's data incomplete, or a roster unit not ranked) is neither locked nor
compared: the next run replaces it. `--accept-incomplete Y --reason` makes this run's provisional
ranking of Y final as it is (only `ranking_status` changes), recorded in `ranking_acceptances`.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from dagster_project.core.dbt_project import MANIFEST

STORAGE_VERSION = "v1.0.0"
SCHEMA = "marts"
STAGED = "staged"  # in-memory database where a publication is assembled before it is written
# meta.publish of a published table: a mart by year or whole (dbt_project.yml, the marts' YAML), or
# a table the publisher writes (dbt/models/marts/_publication__sources.yml): history carried from
# one publication to the next, or the record of this publication.
BY_YEAR, WHOLE, HISTORY, RECORD = "by_year", "whole", "history", "record"
PUBLISHER_SOURCE = "publication"  # the dbt source that declares the publisher's tables
COMPARED = ("total_score", "rank_in_category", "rank_overall", "grade")


@dataclass
class PublishResult:
    run_dir: Path
    tables: dict[str, int] = field(default_factory=dict)
    kept_years: dict[int, int] = field(default_factory=dict)  # final year → units that would change
    revisions: dict[int, int] = field(default_factory=dict)  # year → new revision number
    notes: list[str] = field(default_factory=list)
    accepted: dict[int, int] = field(default_factory=dict)  # year accepted incomplete → units affected
    notice: dict | None = None  # what the published rankings rest on (quality/ranking_notice.py)


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


@dataclass(frozen=True)
class PublishedTable:
    """A table of the publication as the dbt project declares it."""

    name: str
    how: str  # BY_YEAR | WHOLE | HISTORY | RECORD
    grain: tuple[str, ...]  # the columns that identify a row; () when the table has none
    description: str
    columns: dict[str, tuple[str, str]]  # column → (data type, description)
    not_null: tuple[str, ...] = ()  # the columns its primary_key (or not_null_columns) test requires

    def ddl(self) -> str:
        return ", ".join(f'"{name}" {data_type}' for name, (data_type, _) in self.columns.items())


def published_tables(manifest: Path = MANIFEST) -> dict[str, PublishedTable]:
    """What a publication holds, from dbt's manifest: the marts marked meta.publish (by_year |
    whole; the label tables are seeds), each with its grain (the key of its primary_key, unique or
    unique_combination test) and the publisher's tables declared as the `publication` source
    (meta.publish history | record, meta.grain). The dbt project is the list; none is kept here."""
    graph = json.loads(manifest.read_text(encoding="utf-8"))
    grains: dict[str, tuple[str, ...]] = {}
    required: dict[str, tuple[str, ...]] = {}
    primary: set[str] = set()  # models whose grain is their primary_key test, whatever else they have
    for node in graph["nodes"].values():
        test = node.get("test_metadata") or {}
        if node["resource_type"] != "test" or not test:
            continue
        kwargs, model = test["kwargs"], (node.get("attached_node") or "").split(".")[-1]
        if test["name"] == "primary_key":
            primary.add(model)
            grains[model] = tuple(c.strip('"') for c in kwargs["columns"])
            columns = [*kwargs["columns"], *kwargs.get("required", [])]
            required[model] = tuple(dict.fromkeys(c.strip('"') for c in columns))
        elif test["name"] in ("unique", "unique_combination") and model not in primary:
            grains[model] = tuple(c.strip('"') for c in kwargs.get("columns") or [kwargs["column_name"]])
        elif test["name"] == "not_null_columns" and model not in primary:
            required[model] = tuple(c.strip('"') for c in kwargs["columns"])
    tables = {}
    for node in sorted(graph["nodes"].values(), key=lambda n: n["name"]):
        how = node["config"].get("meta", {}).get("publish")
        if node["resource_type"] in ("model", "seed") and how in (BY_YEAR, WHOLE):  # seeds: the label tables
            tables[node["name"]] = PublishedTable(
                node["name"], how, grains.get(node["name"], ()), node["description"],
                {c: (col.get("data_type") or "", col["description"]) for c, col in node["columns"].items()},
                required.get(node["name"], ()),
            )  # fmt: skip
    for source in graph["sources"].values():
        if source["source_name"] == PUBLISHER_SOURCE:
            meta = source["config"]["meta"]
            tables[source["name"]] = PublishedTable(
                source["name"], meta["publish"], tuple(meta["grain"]), source["description"],
                {c: (col["data_type"], col["description"]) for c, col in source["columns"].items()},
                tuple(meta["grain"]),
            )  # fmt: skip
    return tables


def published_marts(manifest: Path = MANIFEST) -> dict[str, str]:
    """The dbt models to publish and how (by_year | whole)."""
    return {t.name: t.how for t in published_tables(manifest).values() if t.how in (BY_YEAR, WHOLE)}


def _comment(con: duckdb.DuckDBPyConnection, table: PublishedTable) -> None:
    """The descriptions of the dbt project as DuckDB comments of the published table. (dbt's
    persist_docs would write them into the working warehouse on every build, for nobody.)"""
    if table.description:
        con.execute(f"comment on table pub.{SCHEMA}.{table.name} is {_quote(table.description)}")
    present = {r[0] for r in con.execute(f"describe pub.{SCHEMA}.{table.name}").fetchall()}
    for column, (_, text) in table.columns.items():
        if text and column in present:
            con.execute(f'comment on column pub.{SCHEMA}.{table.name}."{column}" is {_quote(text)}')


def _constrain(con: duckdb.DuckDBPyConnection, table: PublishedTable, result: PublishResult) -> None:
    """What readers may rely on, as constraints of the published table: NOT NULL for the columns
    the dbt tests require, PRIMARY KEY on the grain. A column with nulls in rows of a final ranking
    kept from an older publication (a column added since) stays nullable, with a note."""
    qualified = f"pub.{SCHEMA}.{table.name}"
    nulls: dict[str, int] = {}
    if table.not_null:
        counts = ", ".join(f'count(*) filter (where "{c}" is null)' for c in table.not_null)
        nulls = dict(zip(table.not_null, con.execute(f"select {counts} from {qualified}").fetchone(), strict=True))
    for column in table.not_null:
        if nulls[column]:
            result.notes.append(f"{table.name}.{column}: {nulls[column]:,} null(s) in kept rows; published nullable")
        else:
            con.execute(f'alter table {qualified} alter column "{column}" set not null')
    if table.grain and not any(nulls.get(c) for c in table.grain):
        key = ", ".join(f'"{c}"' for c in table.grain)
        con.execute(f"alter table {qualified} add primary key ({key})")


def _kv(table: PublishedTable) -> str:
    """Parquet key-value metadata: the table's description, its grain and each column's
    description (JSON), for readers of the Parquet files alone."""
    values = {
        "kaohe.table": table.description,
        "kaohe.grain": json.dumps(list(table.grain)),
        "kaohe.columns": json.dumps({c: doc for c, (_, doc) in table.columns.items()}, ensure_ascii=False),
    }
    return ", kv_metadata {" + ", ".join(f"{_quote(k)}: {_quote(v)}" for k, v in values.items()) + "}"


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
    accept_year: int | None = None,
    accept_reason: str | None = None,
) -> PublishResult:
    """Build the snapshot of `warehouse`'s marts as run `run_id` and make it current."""
    now = now or datetime.now()
    run_dir, building = _start_building(publish_dir, run_id)
    previous = current_snapshot(publish_dir)
    result = PublishResult(run_dir=run_dir)

    con = duckdb.connect()
    try:
        con.execute(f"attach {_quote(str(warehouse))} as wh (read_only)")
        con.execute(f"attach {_quote(str(building / 'kaohe.duckdb'))} as pub (storage_version '{STORAGE_VERSION}')")
        if previous is not None:
            con.execute(f"attach {_quote(str(previous))} as prev (read_only)")
        con.execute(f"attach ':memory:' as {STAGED}")
        previous_tables = _tables(con, "prev") if previous is not None else set()
        declared = published_tables()
        published, year_tables = _stage_tables(con, declared, previous_tables, only_year)
        _keep_final_rankings(
            con, result, previous_tables, year_tables, run_id, now, reopen_year=reopen_year, reason=reason,
            accept_year=accept_year, accept_reason=accept_reason,
        )  # fmt: skip
        for table in published:
            result.tables[table.name] = con.execute(f"select count(*) from {STAGED}.{table.name}").fetchall()[0][0]
        record = next(t for t in declared.values() if t.how == RECORD)
        _stage_record(
            con, record, result.tables, run_id=run_id, now=now, key_kind="demo" if demo_key else "installation",
            as_of=as_of, inputs_fingerprint=inputs_fingerprint,
        )  # fmt: skip
        _write_tables(con, [*published, record], building, result)
    finally:
        con.close()
    os.replace(building, run_dir)
    _ensure_stable_links(publish_dir)
    _swap_symlink(publish_dir / "current", str(Path("runs") / run_id))
    return result


def _start_building(publish_dir: Path, run_id: str) -> tuple[Path, Path]:
    """The run's folder and the folder its snapshot is built in (`runs/.<run_id>.building`),
    after removing half-built ones; a failed gate's report of this run id moves into it."""
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
    return run_dir, building


def _stage_tables(
    con: duckdb.DuckDBPyConnection,
    declared: dict[str, PublishedTable],
    previous_tables: set[str],
    only_year: int | None,
) -> tuple[list[PublishedTable], list[str]]:
    """Copy the marts the warehouse has and the history tables into the staged (in-memory)
    database: with `only_year`, the other years of each by-year table come from the previous
    publication; history is carried over (created empty the first time). Returns the tables to
    publish and the names of the by-year ones."""
    available = _tables(con, "wh")
    marts = [t for t in declared.values() if t.how in (BY_YEAR, WHOLE) and t.name in available]
    year_tables = [t.name for t in marts if t.how == BY_YEAR]
    history = [t for t in declared.values() if t.how == HISTORY]
    for table in marts:
        con.execute(f"create table {STAGED}.{table.name} as select * from wh.{SCHEMA}.{table.name}")
    if only_year is not None:
        for table in year_tables:
            if table in previous_tables:
                con.execute(f"delete from {STAGED}.{table} where year != ?", [only_year])
                con.execute(
                    f"insert into {STAGED}.{table} by name select * from prev.{SCHEMA}.{table} where year != ?",
                    [only_year],
                )
    for table in history:
        if table.name in previous_tables:
            con.execute(f"create table {STAGED}.{table.name} as select * from prev.{SCHEMA}.{table.name}")
        else:
            con.execute(f"create table {STAGED}.{table.name} ({table.ddl()})")
    return [*marts, *history], year_tables


def _stage_record(
    con: duckdb.DuckDBPyConnection,
    record: PublishedTable,
    tables: dict[str, int],
    *,
    run_id: str,
    now: datetime,
    key_kind: str,
    as_of: str | None,
    inputs_fingerprint: str | None,
) -> None:
    """What this snapshot is, one row per published table with its row count: a reader can check
    it sees one whole publication."""
    con.execute(f"create table {STAGED}.{record.name} ({record.ddl()})")
    con.executemany(
        f"insert into {STAGED}.{record.name} values (?, ?, ?, ?, ?, ?, ?)",
        [(run_id, now, table, rows, key_kind, as_of, inputs_fingerprint) for table, rows in tables.items()],
    )


def _write_tables(
    con: duckdb.DuckDBPyConnection, tables: list[PublishedTable], building: Path, result: PublishResult
) -> None:
    """Write each staged table once into the snapshot, ordered by its grain (all its columns when
    it has none), so two publications of the same input are equal row by row; then its
    constraints, its Parquet file and its comments."""
    con.execute(f"create schema pub.{SCHEMA}")
    for table in tables:
        order = ", ".join(f'"{column}"' for column in table.grain) or "all"
        con.execute(f"create table pub.{SCHEMA}.{table.name} as select * from {STAGED}.{table.name} order by {order}")
        _constrain(con, table, result)
        target = building / "parquet" / f"{table.name}.parquet"
        con.execute(f"copy pub.{SCHEMA}.{table.name} to {_quote(str(target))} (format parquet{_kv(table)})")
        _comment(con, table)
    con.execute("checkpoint pub")


def _final_years(con: duckdb.DuckDBPyConnection, database: str) -> set[int]:
    """Years whose ranking is final in `database`; a publication from before ranking_status had
    only final year-end rankings."""
    table = f"{database}.unit_scores" if database == STAGED else f"{database}.{SCHEMA}.unit_scores"
    columns = {r[0] for r in con.execute(f"describe {table}").fetchall()}
    final = "ranking_status = 'final'" if "ranking_status" in columns else "stage = 'year_end'"
    return {r[0] for r in con.execute(f"select distinct year from {table} where {final}").fetchall()}


def _accept_incomplete(
    con: duckdb.DuckDBPyConnection, result: PublishResult, year: int, reason: str, old_final: set[int]
) -> list[str] | None:
    """Make this run's provisional ranking of `year` final as it is: only ranking_status changes
    (data_complete and unit_data_issues stay). Returns the units it was incomplete for, or None
    when there was nothing to accept."""
    statuses = {
        r[0]
        for r in con.execute(
            f"select distinct ranking_status from {STAGED}.unit_scores where year = ?", [year]
        ).fetchall()
    }
    if statuses != {"provisional"}:
        state = (
            "not evaluated" if not statuses else "final already" if statuses == {"final"} else "not a year-end ranking"
        )
        result.notes.append(f"--accept-incomplete {year}: the ranking of {year} is {state}; nothing to accept")
        return None
    if year in old_final:
        result.notes.append(
            f"--accept-incomplete {year}: a final ranking of {year} is published already; its lock holds "
            f"(--reopen {year} --reason … publishes a revision)"
        )
    con.execute(f"update {STAGED}.unit_scores set ranking_status = 'final' where year = ?", [year])
    units = con.execute(
        f"""
        select distinct unit_code from {STAGED}.unit_data_issues
        where year = ? and issue in ('rejected_row', 'not_ranked') order by 1
        """,
        [year],
    ).fetchall()
    return [u[0] for u in units]


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
    accept_year: int | None = None,
    accept_reason: str | None = None,
) -> None:
    """A published final ranking stays as published unless its year is reopened: the year's
    rows of every by-year table are taken from the previous publication and the would-be
    changes go to ranking_drift; a reopened year records a revision. Records revision 1 of a
    newly final year. Provisional rankings are neither kept nor compared: the next run replaces them."""
    old_final = _final_years(con, "prev") if "unit_scores" in previous_tables else set()
    accepted_units = None
    if accept_year is not None:
        accepted_units = _accept_incomplete(con, result, accept_year, accept_reason or "accepted", old_final)
    new_final = _final_years(con, STAGED)
    if reopen_year is not None and reopen_year not in old_final:
        result.notes.append(
            f"--reopen {reopen_year}: no final ranking of {reopen_year} was published; nothing to reopen"
        )
    for year in sorted(old_final):
        changes = _final_changes(con, year)
        if not changes:
            # the same scores: a final ranking does not become provisional again
            con.execute(f"update {STAGED}.unit_scores set ranking_status = 'final' where year = ?", [year])
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
        first = "first year-end publication"
        if year == accept_year and accepted_units is not None:
            first += f", accepted incomplete: {accept_reason or 'accepted'}"
        result.revisions[year] = _record_revision(con, year, rows, run_id, now, first)
        if year == accept_year and accepted_units is not None:
            con.execute(
                f"insert into {STAGED}.ranking_acceptances values (?, ?, ?, ?, ?, ?, ?)",
                [year, result.revisions[year], now, accept_reason or "accepted", len(accepted_units),
                 json.dumps(accepted_units), run_id],
            )  # fmt: skip
            result.accepted[year] = len(accepted_units)


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
