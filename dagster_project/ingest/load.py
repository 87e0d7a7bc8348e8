"""Load one system of a delivery into the raw schema of the warehouse, with quarantine.

Per docs/sources.md: each file is a full snapshot of its table; valid rows go to
`raw.<system>__<table>` with their load metadata, rejected rows to `raw.quarantine` (one row
per violation) and `raw.quarantine_rows` (the whole row); a file identical to one already
loaded adds no rows but becomes current again; a file that cannot be read fails the whole
system, and nothing of that system is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from dagster_project.core.settings import MIN_ROWS_SHARE
from dagster_project.ingest import sql
from dagster_project.ingest.contracts import Contract, load_contracts
from dagster_project.ingest.personal import Scrubber
from dagster_project.ingest.readers import TableFile, UnreadableFile, find_table_file, read_table_file, sha256_of, stage

log = logging.getLogger(__name__)

RAW = "raw"

DDL = f"""
create schema if not exists {RAW};
create table if not exists {RAW}.loads (
    load_id integer primary key, delivery varchar, system varchar, table_name varchar,
    file varchar, file_sha256 varchar, encoding varchar, loaded_at timestamp,
    rows_read integer, rows_accepted integer, rows_rejected integer, pruned_at timestamp
);
alter table {RAW}.loads add column if not exists pruned_at timestamp;
create table if not exists {RAW}.load_events (
    applied_at timestamp, delivery varchar, table_name varchar, load_id integer, reused boolean
);
create table if not exists {RAW}.current_loads (
    table_name varchar primary key, load_id integer, applied_at timestamp
);
create table if not exists {RAW}.quarantine (
    load_id integer, delivery varchar, system varchar, table_name varchar, file varchar,
    line integer, column_name varchar, value varchar, reason varchar
);
create table if not exists {RAW}.quarantine_rows (
    load_id integer, system varchar, table_name varchar, file varchar, line integer, row_json varchar
);
create table if not exists {RAW}.load_failures (
    failed_at timestamp, delivery varchar, system varchar, file varchar, problem varchar
);
create table if not exists {RAW}.applied_deliveries (
    delivery varchar, system varchar, path varchar, applied_at timestamp
);
"""


class SystemLoadError(Exception):
    """A system's delivery could not be loaded; nothing of it was written."""


class ShrunkTable(UnreadableFile):
    """A table delivered with no rows, or with far fewer than its current load: most likely a
    partial export, so the system's delivery is refused unless the shrink is accepted."""


def raw_column(contract: Contract, column: str) -> str:
    """Personal columns are stored only as keyed hashes, under `<column>_hash`."""
    return f"{column}_hash" if contract.column(column).pii else column


def raw_columns(contract: Contract) -> list[str]:
    return [raw_column(contract, c) for c in contract.column_names]


def raw_table(contract: Contract) -> str:
    return f"{contract.system}__{contract.table}"


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)
    for contract in load_contracts().values():
        columns = ", ".join(f"{c} varchar" for c in raw_columns(contract))
        con.execute(
            f"create table if not exists {RAW}.{raw_table(contract)} ({columns}, "
            "_load_id integer, _file varchar, _line integer, _file_sha256 varchar, "
            "_loaded_at timestamp, _extra varchar)"
        )


def keyed_hash(values: pd.Series, key: bytes) -> pd.Series:
    """HMAC-SHA256 of each non-empty value (hex); '' stays '' (what `sql.HASH` computes in bulk)."""
    return values.map(lambda v: hmac.new(key, v.encode("utf-8"), hashlib.sha256).hexdigest() if v else "")


@dataclass
class TableLoad:
    table: str
    file: str
    load_id: int
    rows: int
    accepted: int
    rejected: int
    violations: int
    reused: bool
    reasons: dict[str, int] = field(default_factory=dict)


@dataclass
class SystemLoad:
    system: str
    delivery: str
    tables: list[TableLoad]
    missing: list[str]  # tables of the system without a file in this delivery (kept as they were)
    applied_at: datetime


_DATED_NAME = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})")


def delivered_at(delivery: str, applied_at: datetime) -> str:
    """When a delivery was delivered: the date its folder is named by (20240131, 2024-01-31_x),
    else the time it was applied."""
    match = _DATED_NAME.match(delivery)
    if match:
        try:
            return date(*map(int, match.groups())).isoformat()
        except ValueError:
            pass
    return applied_at.isoformat(sep=" ", timespec="seconds")


def latest_delivered_at(con: duckdb.DuckDBPyConnection, systems: AbstractSet[str]) -> str:
    """`delivered_at` of the latest delivery applied for any of `systems` ('' when none)."""
    ensure_schema(con)
    if not systems:
        return ""
    rows = con.execute(
        f"select delivery, applied_at from {RAW}.applied_deliveries where system in (select unnest(?)) "
        "order by applied_at desc, delivery desc limit 1",
        [sorted(systems)],
    ).fetchall()
    return delivered_at(rows[0][0], rows[0][1]) if rows else ""


def applied_deliveries(con: duckdb.DuckDBPyConnection, system: str) -> set[str]:
    ensure_schema(con)
    rows = con.execute(f"select delivery from {RAW}.applied_deliveries where system = ?", [system]).fetchall()
    return {r[0] for r in rows}


def has_current_loads(con: duckdb.DuckDBPyConnection) -> bool:
    ensure_schema(con)
    return bool(con.execute(f"select count(*) from {RAW}.current_loads").fetchall()[0][0])


def dangling_references(con: duckdb.DuckDBPyConnection, shown: int = 5) -> list[str]:
    """Contract references broken across the loads in force — a later delivery dropped a parent
    (a unit) while an older file of its children (persons) stays current — one sentence each,
    naming the keys and the files."""
    ensure_schema(con)
    current = f"(select load_id from {RAW}.current_loads where table_name = ?)"
    findings = []
    for child in load_contracts().values():
        for ref in child.references:
            parent = load_contracts()[ref.table]
            pairs = " and ".join(
                f"p.{raw_column(parent, pk)} = c.{raw_column(child, ck)}"
                for ck, pk in zip(ref.columns, parent.key, strict=True)
            )
            keys = " || '+' || ".join(f"c.{raw_column(child, ck)}" for ck in ref.columns)
            missing = con.execute(
                f"select distinct {keys} as k from {RAW}.{raw_table(child)} c where c._load_id = {current} "
                f"and not exists (select 1 from {RAW}.{raw_table(parent)} p where p._load_id = {current} "
                f"and {pairs}) order by k",
                [child.name, parent.name],
            ).fetchall()
            if not missing:
                continue
            files = dict(
                con.execute(
                    f"select c.table_name, l.file || ' (delivery ' || l.delivery || ')' from {RAW}.current_loads c "
                    f"join {RAW}.loads l using (load_id) where c.table_name in (?, ?)",
                    [child.name, parent.name],
                ).fetchall()
            )
            listed = ", ".join(k for (k,) in missing[:shown]) + (
                f" and {len(missing) - shown} more" if len(missing) > shown else ""
            )
            findings.append(
                f"{child.name} (current file {files.get(child.name)}) refers to {len(missing)} "
                f"{'+'.join(ref.columns)} missing from {parent.name} (current file {files.get(parent.name)}): "
                f"{listed}; re-deliver {child.system} with all its tables."
            )
    return findings


def load_system(
    con: duckdb.DuckDBPyConnection,
    delivery_dir: Path,
    system: str,
    pii_key: bytes,
    delivery: str | None = None,
    now: datetime | None = None,
    accept_shrink: frozenset[str] = frozenset(),
    min_rows_share: float = MIN_ROWS_SHARE,
) -> SystemLoad:
    """Load every table file of `<delivery_dir>/<system>/` in one transaction.

    Every failure — an unreadable file, an empty or shrunken table (unless its name, `persons`
    or `staffing.persons`, is in `accept_shrink`), and any unexpected error too — is recorded in
    `raw.load_failures` before it is raised; nothing of the system is written then.
    """
    delivery = delivery or delivery_dir.name
    now = now or datetime.now()
    ensure_schema(con)
    try:
        read = _read_system(con, delivery_dir, system, accept_shrink, min_rows_share)
        return _load_system(con, delivery_dir, system, read, pii_key, delivery, now, accept_shrink, min_rows_share)
    except UnreadableFile as exc:
        _record_failure(con, now, delivery, system, str(exc.path), exc.problem)
        raise SystemLoadError(f"{system}: {exc}; nothing of {system} was loaded, earlier data stay current") from None
    except Exception as exc:
        _record_failure(con, now, delivery, system, str(delivery_dir / system), f"{type(exc).__name__}: {exc}")
        raise


def _record_failure(con, now: datetime, delivery: str, system: str, file: str, problem: str) -> None:
    con.execute(f"insert into {RAW}.load_failures values (?, ?, ?, ?, ?)", [now, delivery, system, file, problem])


def _read_system(
    con: duckdb.DuckDBPyConnection,
    delivery_dir: Path,
    system: str,
    accept_shrink: frozenset[str],
    min_rows_share: float,
) -> dict[str, TableFile | KnownFile | None]:
    """Every table file of the system, sniffed and its header checked before anything is
    written (None: no file for the table in this delivery). DuckDB reads the rows at load."""
    read: dict[str, TableFile | KnownFile | None] = {}
    try:
        for contract in load_contracts().values():
            if contract.system != system:
                continue
            path = find_table_file(delivery_dir / system, contract)
            if path is not None:
                read[contract.name] = _known_file(con, contract, path) or read_table_file(path, contract)
            else:
                read[contract.name] = None
        for contract_name, table_file in read.items():
            if isinstance(table_file, KnownFile) and not {contract_name, contract_name.split(".")[1]} & accept_shrink:
                _refuse_shrink(con, contract_name, table_file, min_rows_share, table_file.rows)
    except BaseException:
        for table_file in read.values():
            if isinstance(table_file, TableFile):
                table_file.close()
        raise
    return read


@dataclass(frozen=True)
class KnownFile:
    """A file whose very bytes were loaded before (same table, same SHA-256, rows not pruned):
    its load is reused, so it is not parsed or checked again."""

    path: Path
    sha256: str
    load_id: int  # the earliest load of these bytes
    rows: int
    accepted: int
    rejected: int


def _known_file(con: duckdb.DuckDBPyConnection, contract: Contract, path: Path) -> KnownFile | None:
    try:
        sha256 = sha256_of(path)
    except OSError:
        return None  # read_table_file says why
    known = con.execute(
        f"select load_id, rows_read, rows_accepted, rows_rejected from {RAW}.loads "
        "where table_name = ? and file_sha256 = ? and pruned_at is null order by load_id limit 1",
        [contract.name, sha256],
    ).fetchall()
    return KnownFile(path, sha256, *known[0]) if known else None


def _refuse_shrink(
    con: duckdb.DuckDBPyConnection, name: str, table_file: TableFile | KnownFile, min_rows_share: float, rows: int
) -> None:
    current = con.execute(
        f"select l.rows_read, l.delivery, l.file_sha256 from {RAW}.current_loads c join {RAW}.loads l using (load_id) "
        "where c.table_name = ?",
        [name],
    ).fetchall()
    if current and current[0][2] == table_file.sha256:
        return  # the file in force, delivered again: nothing shrank
    before = f"; the current load (delivery {current[0][1]}) has {current[0][0]:,} rows" if current else ""
    accept = f"if {name} really is that small now, rerun with --accept-shrink {name}"
    if rows == 0:
        raise ShrunkTable(table_file.path, f"no rows, only a header{before}; an empty export is refused: {accept}")
    if current and rows < min_rows_share * current[0][0]:
        raise ShrunkTable(
            table_file.path,
            f"{rows:,} rows where the current load (delivery {current[0][1]}) has {current[0][0]:,}: fewer than "
            f"{min_rows_share:.0%} of them, which looks like a partial export; {accept}",
        )


def _load_system(
    con: duckdb.DuckDBPyConnection,
    delivery_dir: Path,
    system: str,
    read: dict[str, TableFile | KnownFile | None],
    pii_key: bytes,
    delivery: str,
    now: datetime,
    accept_shrink: frozenset[str] = frozenset(),
    min_rows_share: float = MIN_ROWS_SHARE,
) -> SystemLoad:
    missing = [name for name, table_file in read.items() if table_file is None]
    scrubber = Scrubber(pii_key, _register_names(con, read))
    con.execute("begin transaction")
    try:
        sql.install_hash(con, pii_key)
        scrubber.install(con)
        loads_of: dict[str, int] = {}  # table → its load in this delivery (new or reused)
        loads = []
        for name, table_file in read.items():  # contract order: parents first
            if table_file is None:
                continue
            contract = load_contracts()[name]
            shrink = None if {name, name.split(".")[1]} & accept_shrink else min_rows_share
            load = _load_table(con, contract, table_file, loads_of, scrubber, delivery, now, shrink)
            loads_of[name] = load.load_id
            loads.append(load)
        con.execute(
            f"insert into {RAW}.applied_deliveries values (?, ?, ?, ?)", [delivery, system, str(delivery_dir), now]
        )
        _drop_temporary(con)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        for table_file in read.values():
            if isinstance(table_file, TableFile):
                table_file.close()
        _drop_temporary(con)
        scrubber.remove(con)
    log.info("%s: %s", system, scrubber.summary())
    return SystemLoad(system=system, delivery=delivery, tables=loads, missing=missing, applied_at=now)


def _drop_temporary(con: duckdb.DuckDBPyConnection) -> None:
    for view in ("kaohe_s",):
        con.execute(f"drop view if exists {view}")
    for table in ("kaohe_viol", "kaohe_src"):
        con.execute(f"drop table if exists {table}")
    sql.drop_hash(con)
    for name in ("kaohe_workbook", "kaohe_lines"):
        with contextlib.suppress(Exception):  # nothing registered under that name
            con.unregister(name)


def _register_names(con: duckdb.DuckDBPyConnection, read: dict[str, TableFile | KnownFile | None]) -> frozenset[str]:
    """The person names of the register as delivered (staffing.persons of this delivery): they
    are replaced in the staffing tables' columns outside the contract (docs/architecture.md)."""
    persons = read.get("staffing.persons")
    if not isinstance(persons, TableFile):
        return frozenset()
    header = next((h for h, c in persons.rename.items() if c == "name"), None)
    if header is None:
        return frozenset()
    try:
        rows = con.execute(
            f"select distinct {sql.stripped(f'c{persons.position(header)}')} from {persons.relation(con)}"
        ).fetchall()
    except duckdb.Error:
        return frozenset()  # the file is refused when it is loaded, with its reason
    return frozenset(n for (n,) in rows if n)


def _parents(con: duckdb.DuckDBPyConnection, contract: Contract, loads_of: dict[str, int]) -> dict[str, str]:
    """Each referenced table's accepted keys (column `k`): those of its load in this delivery,
    else of its load in force (none: every reference dangles)."""
    parents = {}
    for ref in contract.references:
        parent = load_contracts()[ref.table]
        key = " || '+' || ".join(sql.ident(raw_column(parent, c)) for c in parent.key)
        if ref.table in loads_of:
            load = str(int(loads_of[ref.table]))
        else:
            load = f"(select load_id from {RAW}.current_loads where table_name = {sql.lit(ref.table)})"
        parents[ref.table] = f"(select {key} as k from {RAW}.{raw_table(parent)} where _load_id = {load})"
    return parents


def _load_table(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    table_file: TableFile | KnownFile,
    loads_of: dict[str, int],
    scrubber: Scrubber,
    delivery: str,
    now: datetime,
    min_rows_share: float | None,
) -> TableLoad:
    name = contract.name
    if isinstance(table_file, KnownFile):  # these bytes were loaded before: that load is reused
        load_id = table_file.load_id
        _make_current(con, name, load_id, delivery, now, reused=True)
        violations = con.execute(f"select count(*) from {RAW}.quarantine where load_id = ?", [load_id]).fetchall()[0][0]
        return TableLoad(
            name, str(table_file.path), load_id, table_file.rows, table_file.accepted, table_file.rejected,
            violations, reused=True,
        )  # fmt: skip

    rows = stage(con, table_file, scrubber)
    if min_rows_share is not None:
        _refuse_shrink(con, name, table_file, min_rows_share, rows)
    load_id = con.execute(f"select coalesce(max(load_id), 0) + 1 from {RAW}.loads").fetchall()[0][0]
    checks = sql.violations_sql(contract, "kaohe_s", _parents(con, contract, loads_of))
    con.execute(f"create or replace temp table kaohe_viol as {checks}")
    file = str(table_file.path)
    extras = [(h, f"_x{j}") for j, h in enumerate(table_file.extra_columns)]
    whole = frozenset(h for h in table_file.extra_columns if contract.is_personal_header(h))
    extra = sql.extra_json_expr(extras, whole) if extras else "null"
    columns = ", ".join(sql.ident(c) for c in raw_columns(contract))
    values = ", ".join(sql.normalised_expr(c) for c in contract.columns)
    con.execute(
        f"insert into {RAW}.{raw_table(contract)} "
        f"({columns}, _load_id, _file, _line, _file_sha256, _loaded_at, _extra) "
        f"select {values}, ?, ?, _line, ?, ?, {extra} from kaohe_s s "
        "where not exists (select 1 from kaohe_viol v where v._row = s._row)",
        [load_id, file, table_file.sha256, now],
    )
    counts = dict(con.execute("select reason, count(*) from kaohe_viol group by reason").fetchall())
    rejected = con.execute("select count(distinct _row) from kaohe_viol").fetchall()[0][0]
    if counts:
        _quarantine(con, contract, file, load_id, delivery)
    con.execute(
        f"insert into {RAW}.loads (load_id, delivery, system, table_name, file, file_sha256, encoding, loaded_at, "
        "rows_read, rows_accepted, rows_rejected) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [load_id, delivery, contract.system, name, file, table_file.sha256, table_file.encoding, now, rows,
         rows - rejected, rejected],
    )  # fmt: skip
    _make_current(con, name, load_id, delivery, now, reused=False)
    log.info("%s: %d rows, %d accepted, %d rejected", name, rows, rows - rejected, rejected)
    return TableLoad(
        name, file, load_id, rows, rows - rejected, rejected, int(sum(counts.values())), reused=False,
        reasons={r: int(n) for r, n in counts.items()},
    )  # fmt: skip


def _quarantine(con: duckdb.DuckDBPyConnection, contract: Contract, file: str, load_id: int, delivery: str) -> None:
    """The violations (one row each) and the rejected rows whole, personal columns hashed."""
    con.execute(
        f"insert into {RAW}.quarantine (load_id, delivery, system, table_name, file, line, column_name, value, reason) "
        "select ?, ?, ?, ?, ?, s._line, v.column_name, v.value, v.reason from kaohe_viol v join kaohe_s s using (_row) "
        "order by v._row, v.column_name, v.reason",
        [load_id, delivery, contract.system, contract.name, file],
    )
    cells = ", ".join(sql.masked(contract, c) for c in contract.column_names)
    rejected = con.execute(
        f"select _line, {cells} from kaohe_s where _row in (select _row from kaohe_viol) order by _row"
    ).fetchall()
    names = raw_columns(contract)
    full = pd.DataFrame(
        {
            "load_id": load_id,
            "system": contract.system,
            "table_name": contract.name,
            "file": file,
            "line": [r[0] for r in rejected],
            "row_json": [json.dumps(dict(zip(names, r[1:], strict=True)), ensure_ascii=False) for r in rejected],
        }
    )
    con.register("kaohe_rejected", full)
    try:
        con.execute(f"insert into {RAW}.quarantine_rows by name select * from kaohe_rejected")
    finally:
        con.unregister("kaohe_rejected")


def _make_current(con, table_name: str, load_id: int, delivery: str, now: datetime, reused: bool) -> None:
    con.execute(f"insert into {RAW}.load_events values (?, ?, ?, ?, ?)", [now, delivery, table_name, load_id, reused])
    con.execute(f"insert or replace into {RAW}.current_loads values (?, ?, ?)", [table_name, load_id, now])
