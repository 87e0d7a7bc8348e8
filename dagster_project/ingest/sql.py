"""The contracts as DuckDB SQL: one query per check kind, the canonical text of accepted rows,
and the keyed hash of personal data — all generated from `sources/contracts`, so the contracts
stay the single source of truth (docs/sources.md, Bad input).

The queries run over a staged table of *text* cells (`stage` in load.py): every contract column
stripped as `str.strip()` strips ('' = null), `_row` the position of the row in the file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from dagster_project.core.national_codes import (
    GB11643_CHECK,
    GB11643_WEIGHTS,
    GB32100_CHARSET,
    GB32100_WEIGHTS,
    JIANGSU_CITY_PREFIXES,
    PROVINCE_PREFIXES,
)
from dagster_project.ingest.contracts import (
    _DATE_RE,
    _DECIMAL_RE,
    _INT_RE,
    FALSE_VALUES,
    TRUE_VALUES,
    Column,
    Contract,
    ContractError,
)
from dagster_project.ingest.readers import ident, stripped  # noqa: F401 - one definition of each


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def in_list(values) -> str:
    return "(" + ", ".join(lit(v) for v in values) + ")"


# --------------------------------------------------------------------------- keyed hash

HASH = "kaohe_pii_hash"


def install_hash(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """`kaohe_pii_hash(text)`: HMAC-SHA256 of the text's UTF-8 bytes as hex ('' stays ''), the
    same as `hmac.new(key, text, sha256).hexdigest()`, computed by DuckDB's own sha256 in bulk.
    The key's pads are bound parameters of a temporary (in-memory) table: they never appear in
    SQL text, and nothing of them reaches the warehouse file."""
    block = hashlib.sha256(key).digest() if len(key) > 64 else key
    block = block.ljust(64, b"\0")
    con.execute(
        "create or replace temp table kaohe_pii_pads as select ?::blob as ipad, ?::blob as opad",
        [bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)],
    )
    con.execute(
        f"create or replace temp macro {HASH}(v) as case when v = '' then '' else "
        "sha256((select opad from kaohe_pii_pads) || unhex(sha256((select ipad from kaohe_pii_pads) || encode(v)))) end"
    )


def drop_hash(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"drop macro if exists {HASH}")
    con.execute("drop table if exists kaohe_pii_pads")


def masked(contract: Contract, column: str, mask: bool = True) -> str:
    """A column's cell as it may be written: personal columns only as their keyed hash."""
    return f"{HASH}({ident(column)})" if mask and contract.column(column).pii else ident(column)


def masked_joined(contract: Contract, columns: list[str] | tuple[str, ...], sep: str = "+", mask: bool = True) -> str:
    return f" || {lit(sep)} || ".join(masked(contract, c, mask) for c in columns)


# --------------------------------------------------------------------------- checks


def _number_ok(col: Column) -> tuple[str, str, str | None]:
    """(type ok, format ok, out of range) expressions of a numeric column's cell."""
    c = ident(col.name)
    typed = f"regexp_full_match({c}, {lit(_INT_RE if col.type == 'int' else _DECIMAL_RE)})"
    formatted = f"length(split_part({c}, '.', 2)) <= 2" if col.type == "money" else "true"
    low = col.min if col.min is not None else (None if col.allow_negative or col.type != "money" else 0)
    number = f"try_cast({c} as double)"
    out = []
    if low is not None:
        out.append(f"{number} {'<=' if col.min_exclusive else '<'} {float(low)!r}")
    if col.max is not None:
        out.append(f"{number} > {float(col.max)!r}")
    return typed, formatted, " or ".join(out) or None


def ok_expr(col: Column) -> str:
    """Whether a present cell passed the type, format and range checks (it has a parsed value)."""
    c = ident(col.name)
    if col.type in ("int", "decimal", "money"):
        typed, formatted, out = _number_ok(col)
        return f"({typed} and {formatted}" + (f" and not coalesce({out}, false))" if out else ")")
    if col.type == "date":
        return f"(regexp_full_match({c}, {lit(_DATE_RE)}) and {_date_parses(c)})"
    if col.type == "bool":
        return f"lower({c}) in {in_list(sorted(TRUE_VALUES | FALSE_VALUES))}"
    return "true"


def _date_parses(c: str) -> str:
    # Year 0 is no date (pandas and Python refuse it; DuckDB would read it as 1 BC).
    return f"(try_strptime({c}, '%Y-%m-%d') is not null and left({c}, 4) <> '0000')"


def parsed_expr(col: Column) -> str:
    """The parsed value of a cell (a number or a date), null when absent or invalid; rules compare these."""
    c = ident(col.name)
    if col.type in ("int", "decimal", "money"):
        return f"case when {c} <> '' and {ok_expr(col)} then try_cast({c} as double) end"
    if col.type == "date":
        return f"case when {c} <> '' and {ok_expr(col)} then try_strptime({c}, '%Y-%m-%d') end"
    return "null"


def _gb32100_valid(c: str) -> str:
    terms = " + ".join(
        f"(strpos({lit(GB32100_CHARSET)}, substr({c}, {i + 1}, 1)) - 1) * {int(w)}"
        for i, w in enumerate(GB32100_WEIGHTS)
    )
    return f"substr({lit(GB32100_CHARSET)}, (31 - ({terms}) % 31) % 31 + 1, 1) = substr({c}, 18, 1)"


def _gb11643_valid(c: str) -> str:
    terms = " + ".join(f"(ascii(substr({c}, {i + 1}, 1)) - 48) * {int(w)}" for i, w in enumerate(GB11643_WEIGHTS))
    return f"substr({lit(GB11643_CHECK)}, ({terms}) % 11 + 1, 1) = substr({c}, 18, 1)"


def column_checks(contract: Contract, col: Column) -> dict[str, list[str]]:
    """reason → conditions (over one row) under which the column's cell is that violation."""
    c = ident(col.name)
    present = f"{c} <> ''"
    found: dict[str, list[str]] = {}

    def flag(reason: str, condition: str) -> None:
        found.setdefault(reason, []).append(condition)

    if col.required:
        flag("missing_required", f"{c} = ''")
    if col.type in ("int", "decimal", "money"):
        typed, formatted, out = _number_ok(col)
        flag("bad_type", f"{present} and not {typed}")
        if col.type == "money":
            flag("bad_format", f"{present} and {typed} and not {formatted}")
        if out:
            flag("out_of_range", f"{present} and {typed} and {formatted} and coalesce({out}, false)")
    elif col.type == "date":
        shaped = f"regexp_full_match({c}, {lit(_DATE_RE)})"
        flag("bad_format", f"{present} and not {shaped}")
        flag("bad_type", f"{present} and {shaped} and not {_date_parses(c)}")
    elif col.type == "bool":
        flag("bad_type", f"{present} and not {ok_expr(col)}")
    ok = f"{present} and {ok_expr(col)}"
    if col.enum is not None:
        flag("unknown_value", f"{ok} and {c} not in {in_list(col.accepted_values)}")
    if col.pattern is not None:
        flag("bad_format", f"{ok} and not regexp_full_match({c}, {lit(col.pattern)})")
    if col.check == "gb32100":
        shaped = f"regexp_full_match({c}, {lit(f'[{GB32100_CHARSET}]{{18}}')})"
        flag("bad_format", f"{present} and not {shaped}")
        flag("bad_check_character", f"{present} and {shaped} and not ({_gb32100_valid(c)})")
    elif col.check == "gb11643":
        shaped = f"regexp_full_match({c}, '[0-9]{{17}}[0-9X]')"
        flag("bad_format", f"{present} and not {shaped}")
        flag("bad_check_character", f"{present} and {shaped} and not ({_gb11643_valid(c)})")
    elif col.check == "gb2260":
        shaped = f"regexp_full_match({c}, '[0-9]{{6}}')"
        known = (
            f"left({c}, 2) in {in_list(sorted(PROVINCE_PREFIXES))} and (left({c}, 2) <> '32' or {c} = '320000' "
            f"or left({c}, 4) in {in_list(sorted(JIANGSU_CITY_PREFIXES))})"
        )
        flag("bad_format", f"{present} and not {shaped}")
        flag("unknown_value", f"{present} and {shaped} and not ({known})")
    return found


def violations_sql(contract: Contract, source: str, parents: dict[str, str], mask: bool = True) -> str:
    """One select per check kind over `source` (a staged table with `_row`), unioned: rows of
    (_row, column_name, value, reason), values of personal columns as their keyed hash.

    `parents` maps a referenced table (`staffing.units`) to a relation of its accepted keys
    (column `k`, as `+`-joined text); references to tables not given are not checked."""
    selects = []
    for col in contract.columns:
        for reason, conditions in column_checks(contract, col).items():
            where = " or ".join(f"({c})" for c in conditions)
            selects.append(
                f"select _row, {lit(col.name)} as column_name, {masked(contract, col.name, mask)} as value, "
                f"{lit(reason)} as reason from {source} where {where}"
            )
            # A cell can break one reason's rule in two ways (e.g. bad_format by shape, by pattern):
            # the conditions are one check kind, reported once per cell as before.
    columns = {c.name: c for c in contract.columns}
    for rule in contract.rules:
        if rule["rule"] == "interval":
            start, end = rule["start"], rule["end"]
            shown = f"{masked(contract, start, mask)} || '..' || {masked(contract, end, mask)}"
            selects.append(
                f"select _row, {lit(end)}, {shown}, 'bad_interval' from {source} "
                f"where ({parsed_expr(columns[end])}) < ({parsed_expr(columns[start])})"
            )
        elif rule["rule"] == "milestones":
            cols = rule["columns"]
            values = [f"({parsed_expr(columns[c])})" for c in cols]
            decreasing = [
                f"coalesce({values[k]} < greatest({', '.join(values[:k])}), false)" for k in range(1, len(cols))
            ]
            final = f"({values[-1]} is not null and {values[-1]} <> {float(rule.get('final', 100))!r})"
            selects.append(
                f"select _row, {lit('+'.join(cols))}, {masked_joined(contract, cols, '/', mask)}, 'bad_milestones' "
                f"from {source} where {' or '.join([*decreasing, final])}"
            )
        else:
            raise ContractError(f"{contract.name}: unknown rule {rule['rule']!r}")

    key = list(contract.key)
    complete = " and ".join(f"{ident(k)} <> ''" for k in key)
    partition = ", ".join(ident(k) for k in key)
    selects.append(
        f"select _row, {lit('+'.join(key))}, value, 'duplicate_key' from (select _row, "
        f"{masked_joined(contract, key, mask=mask)} as value, count(*) over (partition by {partition}) as n "
        f"from {source} where {complete}) where n > 1"
    )
    for ref in contract.references:
        if ref.table not in parents:
            continue
        filled = " and ".join(f"s.{ident(c)} <> ''" for c in ref.columns)
        joined = " || '+' || ".join(f"s.{ident(c)}" for c in ref.columns)
        selects.append(
            f"select _row, {lit('+'.join(ref.columns))}, {masked_joined(contract, ref.columns, mask=mask)}, "
            f"'dangling_reference' from {source} s where {filled} "
            f"and not exists (select 1 from {parents[ref.table]} p where p.k = {joined})"
        )
    return "\nunion all\n".join(selects)


# --------------------------------------------------------------------------- accepted rows


def normalised_expr(col: Column, mask: bool = True) -> str:
    """Canonical text of an accepted cell, the same whatever the file format: booleans as
    'true'/'false', money with two decimals, other numbers without a plus sign or trailing
    zeros ('.5' is 0.5, '.0' is 0); personal columns only as their keyed hash."""
    c = ident(col.name)
    if col.pii and mask:
        return f"{HASH}({c})"
    if col.type == "bool":
        return (
            f"case when lower({c}) in {in_list(sorted(TRUE_VALUES))} then 'true' "
            f"when lower({c}) in {in_list(sorted(FALSE_VALUES))} then 'false' else '' end"
        )
    if col.type == "money":
        return f"case when {c} = '' then '' else printf('%.2f', round(try_cast({c} as double), 2)) end"
    if col.type == "int":
        return f"ltrim({c}, '+')"
    if col.type == "decimal":
        bare = f"rtrim(rtrim(ltrim({c}, '+'), '0'), '.')"
        return (
            f"case when strpos({c}, '.') = 0 then ltrim({c}, '+') "
            f"when {bare} in ('', '-') then '0' "
            f"else regexp_replace({bare}, '^(-?)\\.', '\\10.') end"
        )
    return c


def extra_json_expr(columns: list[tuple[str, str]], whole_hash: frozenset[str]) -> str:
    """The columns outside the contract as one JSON object per row, written as Python's
    `json.dumps(..., ensure_ascii=False)` writes it; (header, staged column) pairs."""
    parts = []
    for i, (header, column) in enumerate(columns):
        value = f"{HASH}({ident(column)})" if header in whole_hash else ident(column)
        prefix = ("{" if i == 0 else ", ") + json.dumps(header, ensure_ascii=False) + ": "
        parts.append(f"{lit(prefix)} || to_json({value})::varchar")
    return " || ".join(parts) + " || '}'"


# --------------------------------------------------------------------------- frames (tests, tools)


@dataclass
class ValidationResult:
    """`violations`: one row per violation (row = position in the input frame)."""

    rows: int
    violations: pd.DataFrame

    @property
    def rejected(self) -> np.ndarray:
        mask = np.zeros(self.rows, dtype=bool)
        mask[self.violations["row"].to_numpy(dtype=np.int64)] = True
        return mask


def _frame_source(con: duckdb.DuckDBPyConnection, contract: Contract, frame: pd.DataFrame) -> str:
    cells = frame[contract.column_names].astype(object).fillna("").reset_index(drop=True)
    con.register("kaohe_frame", cells)
    selects = ", ".join(f"coalesce({ident(c)}, '') as {ident(c)}" for c in contract.column_names)
    con.execute(f"create temp table kaohe_cells as select {selects} from kaohe_frame")
    base = con.execute("select coalesce(min(rowid), 0) from kaohe_cells").fetchall()[0][0]
    con.execute(f"create temp view kaohe_frame_rows as select rowid - {int(base)} as _row, * from kaohe_cells")
    return "kaohe_frame_rows"


def validate(
    contract: Contract, frame: pd.DataFrame, parent_keys: dict[str, set[str]] | None = None
) -> ValidationResult:
    """The contract's checks (the SQL ingestion runs) over a frame of text cells ('' = null,
    stripped); `parent_keys`: a referenced table's accepted keys (others are not checked).
    Values of personal columns are reported in clear here: ingestion hashes them."""
    con = duckdb.connect()
    try:
        source = _frame_source(con, contract, frame)
        parents = {}
        for i, (table, keys) in enumerate((parent_keys or {}).items()):
            con.execute(f"create temp table kaohe_parent_{i} as select unnest(?::varchar[]) as k", [sorted(keys)])
            parents[table] = f"kaohe_parent_{i}"
        found = con.execute(
            f"select _row as row, column_name as column, value, reason from "
            f"({violations_sql(contract, source, parents, mask=False)}) order by all"
        ).df()
    finally:
        con.close()
    found["row"] = found["row"].astype(np.int64)
    return ValidationResult(rows=len(frame), violations=found)


def normalise(contract: Contract, frame: pd.DataFrame) -> pd.DataFrame:
    """The canonical text of each cell as ingestion writes it (personal columns in clear here)."""
    con = duckdb.connect()
    try:
        source = _frame_source(con, contract, frame)
        values = ", ".join(f"{normalised_expr(c, mask=False)} as {ident(c.name)}" for c in contract.columns)
        return con.execute(f"select {values} from {source} order by _row").df()
    finally:
        con.close()
