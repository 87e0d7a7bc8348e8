"""Load one system of a delivery into the raw schema of the warehouse, with quarantine.

Per docs/sources.md: each file is a full snapshot of its table; valid rows go to
`raw.<system>__<table>` with their load metadata, rejected rows to `raw.quarantine` (one row
per violation) and `raw.quarantine_rows` (the whole row); a file identical to one already
loaded adds no rows but becomes current again; a file that cannot be read fails the whole
system, and nothing of that system is written.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from dagster_project.ingest.legacy_contracts import Contract, key_values, load_contracts, normalise, validate
from dagster_project.ingest.legacy_readers import TableFile, UnreadableFile, find_table_file, read_table_file

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


MIN_ROWS_SHARE = 0.5  # a table under this share of its current load's rows is refused


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
    """HMAC-SHA256 of each non-empty value (hex); '' stays ''."""
    return values.map(lambda v: hmac.new(key, v.encode("utf-8"), hashlib.sha256).hexdigest() if v else "")


def mask_personal(contract: Contract, frame: pd.DataFrame, key: bytes) -> pd.DataFrame:
    masked = frame.copy()
    for column in contract.columns:
        if column.pii:
            masked[column.name] = keyed_hash(frame[column.name], key)
    return masked


def extra_json(extra: pd.DataFrame, personal: frozenset[str], key: bytes) -> np.ndarray:
    """The columns outside the contract, one JSON object per row (kept in raw, ignored after);
    those that may hold personal data (TableFile.personal_extra) only as keyed hashes."""
    extra = extra.copy()
    for column in personal:
        extra[column] = keyed_hash(extra[column], key)
    columns = list(extra.columns)
    return np.array(
        [json.dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False) for row in extra.itertuples(index=False)],
        dtype=object,
    )


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


def _current_keys(con: duckdb.DuckDBPyConnection, contract: Contract) -> set[str]:
    key = " || '+' || ".join(raw_column(contract, c) for c in contract.key)
    rows = con.execute(
        f"select {key} from {RAW}.{raw_table(contract)} "
        f"where _load_id = (select load_id from {RAW}.current_loads where table_name = ?)",
        [contract.name],
    ).fetchall()
    return {r[0] for r in rows}


def _accepted_keys_of_load(con: duckdb.DuckDBPyConnection, contract: Contract, load_id: int) -> set[str]:
    key = " || '+' || ".join(raw_column(contract, c) for c in contract.key)
    return {
        r[0]
        for r in con.execute(f"select {key} from {RAW}.{raw_table(contract)} where _load_id = ?", [load_id]).fetchall()
    }


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
        return _load_system(con, delivery_dir, system, read, pii_key, delivery, now)
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
    """Every table file of the system, read and checked as a whole before anything is written
    (None: no file for the table in this delivery)."""
    read: dict[str, TableFile | KnownFile | None] = {}
    for contract in load_contracts().values():
        if contract.system != system:
            continue
        path = find_table_file(delivery_dir / system, contract)
        if path is not None:
            read[contract.name] = _known_file(con, contract, path) or read_table_file(path, contract)
        else:
            read[contract.name] = None
    for contract_name, table_file in read.items():
        if table_file is not None and not {contract_name, contract_name.split(".")[1]} & accept_shrink:
            _refuse_shrink(con, contract_name, table_file, min_rows_share)
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
        sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None  # read_table_file says why
    known = con.execute(
        f"select load_id, rows_read, rows_accepted, rows_rejected from {RAW}.loads "
        "where table_name = ? and file_sha256 = ? and pruned_at is null order by load_id limit 1",
        [contract.name, sha256],
    ).fetchall()
    return KnownFile(path, sha256, *known[0]) if known else None


def _refuse_shrink(
    con: duckdb.DuckDBPyConnection, name: str, table_file: TableFile | KnownFile, min_rows_share: float
) -> None:
    current = con.execute(
        f"select l.rows_read, l.delivery, l.file_sha256 from {RAW}.current_loads c join {RAW}.loads l using (load_id) "
        "where c.table_name = ?",
        [name],
    ).fetchall()
    rows = table_file.rows
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
) -> SystemLoad:
    missing = [name for name, table_file in read.items() if table_file is None]
    con.execute("begin transaction")
    try:
        accepted_keys: dict[str, set[str]] = {}
        loads = []
        for name, table_file in read.items():  # contract order: parents first
            if table_file is None:
                continue
            contract = load_contracts()[name]
            for ref in contract.references:
                if ref.table not in accepted_keys:
                    accepted_keys[ref.table] = _current_keys(con, load_contracts()[ref.table])
            load = _load_table(con, contract, table_file, accepted_keys, pii_key, delivery, now)
            loads.append(load)
        con.execute(
            f"insert into {RAW}.applied_deliveries values (?, ?, ?, ?)", [delivery, system, str(delivery_dir), now]
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return SystemLoad(system=system, delivery=delivery, tables=loads, missing=missing, applied_at=now)


def _load_table(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    table_file: TableFile | KnownFile,
    accepted_keys: dict[str, set[str]],
    pii_key: bytes,
    delivery: str,
    now: datetime,
) -> TableLoad:
    name = contract.name
    if isinstance(table_file, KnownFile):  # these bytes were loaded before: that load is reused
        load_id = table_file.load_id
        if name in _referenced_tables():
            accepted_keys[name] = _accepted_keys_of_load(con, contract, load_id)
        _make_current(con, name, load_id, delivery, now, reused=True)
        violations = con.execute(f"select count(*) from {RAW}.quarantine where load_id = ?", [load_id]).fetchall()[0][0]
        return TableLoad(
            name, str(table_file.path), load_id, table_file.rows, table_file.accepted, table_file.rejected,
            violations, reused=True,
        )  # fmt: skip

    load_id = con.execute(f"select coalesce(max(load_id), 0) + 1 from {RAW}.loads").fetchall()[0][0]
    referenced = name in _referenced_tables()
    keys: list[pd.Series] = []
    accepted = violations = 0
    reasons: dict[str, int] = {}
    for chunk in table_file.chunks():  # a chunk at a time: a table's cells are never all in memory at once
        frame = chunk.frame
        result = validate(contract, frame, accepted_keys, duplicate_keys=table_file.duplicate_keys)
        rejected = result.rejected
        good = normalise(contract, frame[~rejected])
        if referenced:  # the keys later tables of the delivery are checked against
            keys.append(key_values(good, contract.key))
        masked = mask_personal(contract, good, pii_key)
        masked.columns = raw_columns(contract)
        lines = table_file.lines[chunk.start : chunk.start + len(frame)]
        masked["_load_id"] = load_id
        masked["_file"] = str(table_file.path)
        masked["_line"] = lines[~rejected]
        masked["_file_sha256"] = table_file.sha256
        masked["_loaded_at"] = now
        masked["_extra"] = (
            extra_json(chunk.extra, table_file.personal_extra, pii_key)[~rejected] if chunk.extra is not None else None
        )
        con.register("incoming", masked)
        con.execute(f"insert into {RAW}.{raw_table(contract)} by name select * from incoming")
        con.unregister("incoming")
        found = result.violations
        if len(found):
            _quarantine(con, contract, table_file, lines, frame, found, rejected, load_id, delivery, pii_key)
            for reason, count in found["reason"].value_counts().items():
                reasons[reason] = reasons.get(reason, 0) + int(count)
        accepted += int((~rejected).sum())
        violations += len(found)
    if referenced:
        accepted_keys[name] = set(pd.concat(keys)) if keys else set()
    rows = table_file.rows
    con.execute(
        f"insert into {RAW}.loads (load_id, delivery, system, table_name, file, file_sha256, encoding, loaded_at, "
        "rows_read, rows_accepted, rows_rejected) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            load_id,
            delivery,
            contract.system,
            name,
            str(table_file.path),
            table_file.sha256,
            table_file.encoding,
            now,
            rows,
            accepted,
            rows - accepted,
        ],
    )
    _make_current(con, name, load_id, delivery, now, reused=False)
    log.info("%s: %d rows, %d accepted, %d rejected", name, rows, accepted, rows - accepted)
    return TableLoad(
        name,
        str(table_file.path),
        load_id,
        rows,
        accepted,
        rows - accepted,
        violations,
        reused=False,
        reasons=reasons,
    )


@cache
def _referenced_tables() -> frozenset[str]:
    """The tables whose accepted keys another table's references are checked against."""
    return frozenset(ref.table for contract in load_contracts().values() for ref in contract.references)


def _quarantine(con, contract, table_file, lines, frame, violations, rejected, load_id, delivery, pii_key) -> None:
    """The violations and the rejected rows of one chunk (`lines`: the file lines of its rows)."""
    pii = {c.name for c in contract.columns if c.pii}
    values = violations["value"].astype(str).to_numpy(dtype=object).copy()
    involves_pii = violations["column"].map(lambda c: bool(pii & set(c.split("+")))).to_numpy()
    if involves_pii.any():
        masked_all = mask_personal(contract, frame.iloc[np.unique(violations["row"])], pii_key)
        for i in np.flatnonzero(involves_pii):
            row, columns = violations["row"].iat[i], violations["column"].iat[i].split("+")
            values[i] = "+".join(masked_all.loc[row, c] for c in columns)
    quarantine = pd.DataFrame(
        {
            "load_id": load_id,
            "delivery": delivery,
            "system": contract.system,
            "table_name": contract.name,
            "file": str(table_file.path),
            "line": lines[violations["row"].to_numpy()],
            "column_name": violations["column"].to_numpy(),
            "value": values,
            "reason": violations["reason"].to_numpy(),
        }
    )
    rows = np.flatnonzero(rejected)
    masked_rows = mask_personal(contract, frame.iloc[rows], pii_key)
    masked_rows.columns = raw_columns(contract)
    full = pd.DataFrame(
        {
            "load_id": load_id,
            "system": contract.system,
            "table_name": contract.name,
            "file": str(table_file.path),
            "line": lines[rows],
            "row_json": [json.dumps(r, ensure_ascii=False) for r in masked_rows.to_dict("records")],
        }
    )
    con.register("q", quarantine)
    con.execute(f"insert into {RAW}.quarantine by name select * from q")
    con.unregister("q")
    con.register("qr", full)
    con.execute(f"insert into {RAW}.quarantine_rows by name select * from qr")
    con.unregister("qr")


def _make_current(con, table_name: str, load_id: int, delivery: str, now: datetime, reused: bool) -> None:
    con.execute(f"insert into {RAW}.load_events values (?, ?, ?, ?, ?)", [now, delivery, table_name, load_id, reused])
    con.execute(f"insert or replace into {RAW}.current_loads values (?, ?, ?)", [table_name, load_id, now])
