"""Source contracts: load `sources/contracts/**/*.yml` and validate delivered rows against them.

The contract files are the single source of truth for what the three upstream systems deliver
(SOURCES.md). The generator writes from them, ingestion checks rows with `validate`, and the dbt
sources are checked against them by a test.

Validation works on a frame of *text* cells (as read from CSV/XLSX, empty string = null) and is
vectorised with pandas/numpy, so a scale-10 delivery (millions of rows) validates in seconds.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from dagster_project.national_codes import (
    GB32100_CHARSET,
    JIANGSU_CITY_PREFIXES,
    PROVINCE_PREFIXES,
    gb11643_valid,
    gb32100_valid,
)

CONTRACTS_DIR = Path(__file__).resolve().parent.parent / "sources" / "contracts"
SYSTEMS = ("staffing", "finance", "performance")

REASONS = (
    "bad_type",
    "bad_format",
    "bad_check_character",
    "unknown_value",
    "out_of_range",
    "missing_required",
    "bad_interval",
    "bad_milestones",
    "duplicate_key",
    "dangling_reference",
)
TYPES = ("text", "int", "decimal", "money", "date", "bool")
CHECKS = ("gb32100", "gb11643", "gb2260")

TRUE_VALUES = frozenset({"true", "1", "是"})
FALSE_VALUES = frozenset({"false", "0", "否"})


_INT_RE = r"^[+-]?\d+$"
_DECIMAL_RE = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$"
_DATE_RE = r"^\d{4}-\d{2}-\d{2}$"


@dataclass(frozen=True)
class Column:
    name: str
    zh: str
    type: str = "text"
    required: bool = True
    description: str = ""
    enum: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    allow_negative: bool = False
    pattern: str | None = None
    check: str | None = None
    pii: bool = False


@dataclass(frozen=True)
class Reference:
    columns: tuple[str, ...]
    table: str  # qualified: "<system>.<table>"


@dataclass(frozen=True)
class Contract:
    system: str
    table: str
    label: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    references: tuple[Reference, ...] = ()
    rules: tuple[dict, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        return f"{self.system}.{self.table}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name!r}")

    def is_personal_header(self, header: str) -> bool:
        """Whether a column outside the contract is named like a personal column of it (by name or
        Chinese label, ignoring case, spacing, punctuation and suffixes: `身份证号码`, `Name (2)`)."""
        name = _header_letters(header)
        return any(_header_letters(label) in name for c in self.columns if c.pii for label in (c.name, c.zh) if label)

    @property
    def header_aliases(self) -> dict[str, str]:
        """Accepted header → contract column name (English names and Chinese labels)."""
        aliases = {c.name: c.name for c in self.columns}
        aliases.update({c.zh: c.name for c in self.columns})
        return aliases


class ContractError(ValueError):
    """A contract file is malformed."""


def _parse_contract(path: Path) -> Contract:
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    columns = []
    for raw in spec["columns"]:
        col = Column(**{k: tuple(v) if k == "enum" else v for k, v in raw.items()})
        if col.type not in TYPES:
            raise ContractError(f"{path}: column {col.name} has unknown type {col.type!r}")
        if col.check and col.check not in CHECKS:
            raise ContractError(f"{path}: column {col.name} has unknown check {col.check!r}")
        columns.append(col)
    contract = Contract(
        system=spec["system"],
        table=spec["table"],
        label=spec["label"],
        key=tuple(spec["key"]),
        columns=tuple(columns),
        references=tuple(Reference(columns=tuple(r["columns"]), table=r["table"]) for r in spec.get("references", [])),
        rules=tuple(spec.get("rules", [])),
    )
    names = set(contract.column_names)
    used = set(contract.key)
    used |= {c for r in contract.references for c in r.columns}
    for rule in contract.rules:
        used |= {rule.get("start"), rule.get("end"), *rule.get("columns", [])} - {None}
    if missing := used - names:
        raise ContractError(f"{path}: unknown columns {sorted(missing)}")
    if path.parent.name != contract.system or path.stem != contract.table:
        raise ContractError(f"{path}: file must be <system>/<table>.yml")
    return contract


@cache
def load_contracts(directory: Path = CONTRACTS_DIR) -> dict[str, Contract]:
    """All contracts keyed by `<system>.<table>`, parents before the tables that reference them."""
    contracts = {}
    for system in SYSTEMS:
        for path in sorted((directory / system).glob("*.yml")):
            contract = _parse_contract(path)
            contracts[contract.name] = contract
    ordered: dict[str, Contract] = {}

    def visit(name: str, trail: tuple[str, ...] = ()) -> None:
        if name in ordered:
            return
        if name in trail:
            raise ContractError(f"reference cycle through {name}")
        if name not in contracts:
            raise ContractError(f"reference to unknown table {name}")
        for ref in contracts[name].references:
            visit(ref.table, (*trail, name))
        ordered[name] = contracts[name]

    for name in contracts:
        visit(name)
    return ordered


def _header_letters(header: str) -> str:
    """A header reduced to its letters (case-folded, NFKC): digits, spaces and punctuation go."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", header).casefold() if ch.isalpha())


# --------------------------------------------------------------------------- validation


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


def _violations(rows: np.ndarray, column: str, values: pd.Series | np.ndarray, reason: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": np.asarray(rows, dtype=np.int64),
            "column": column,
            "value": np.asarray(values, dtype=object),
            "reason": reason,
        }
    )


def parse_bool(values: pd.Series) -> pd.Series:
    """Contract booleans (true/false, 1/0, 是/否) → 'true'/'false'; others → NA."""
    lowered = values.str.lower()
    return pd.Series(
        np.where(lowered.isin(TRUE_VALUES), "true", np.where(lowered.isin(FALSE_VALUES), "false", None)),
        index=values.index,
        dtype=object,
    )


def _check_column(col: Column, values: pd.Series) -> tuple[list[pd.DataFrame], pd.Series]:
    """Violations of one column, and its parsed numeric/date value (for rules), NA where invalid."""
    found: list[pd.DataFrame] = []
    present = values != ""
    idx = np.flatnonzero(present.to_numpy())
    parsed = pd.Series(np.nan, index=values.index)
    if col.type == "date":
        parsed = parsed.astype("datetime64[ns]")

    def flag(mask: np.ndarray, reason: str) -> None:
        rows = idx[mask]
        if len(rows):
            found.append(_violations(rows, col.name, values.iloc[rows], reason))

    if col.required:
        missing = np.flatnonzero(~present.to_numpy())
        if len(missing):
            found.append(_violations(missing, col.name, values.iloc[missing], "missing_required"))
    if not len(idx):
        return found, parsed
    vals = values.iloc[idx]
    ok = np.ones(len(idx), dtype=bool)

    if col.type in ("int", "decimal", "money"):
        bad = ~vals.str.fullmatch(_INT_RE if col.type == "int" else _DECIMAL_RE).to_numpy()
        flag(bad, "bad_type")
        ok &= ~bad
        numbers = pd.to_numeric(vals.where(ok), errors="coerce")
        if col.type == "money":
            decimals = vals.str.extract(r"\.(\d*)$")[0].fillna("").str.len().to_numpy()
            bad = ok & (decimals > 2)
            flag(bad, "bad_format")
            ok &= ~bad
        low = col.min if col.min is not None else (None if col.allow_negative or col.type != "money" else 0)
        out = np.zeros(len(idx), dtype=bool)
        if low is not None:
            out |= (numbers <= low).to_numpy() if col.min_exclusive else (numbers < low).to_numpy()
        if col.max is not None:
            out |= (numbers > col.max).to_numpy()
        out &= ok
        flag(out, "out_of_range")
        ok &= ~out
        parsed.iloc[idx[ok]] = numbers.to_numpy()[ok]
    elif col.type == "date":
        bad = ~vals.str.fullmatch(_DATE_RE).to_numpy()
        flag(bad, "bad_format")
        ok &= ~bad
        dates = pd.to_datetime(vals.where(ok), format="%Y-%m-%d", errors="coerce")
        bad = ok & dates.isna().to_numpy()
        flag(bad, "bad_type")
        ok &= ~bad
        parsed.iloc[idx[ok]] = dates.to_numpy()[ok]
    elif col.type == "bool":
        bad = parse_bool(vals).isna().to_numpy()
        flag(bad, "bad_type")
        ok &= ~bad

    if col.enum is not None:
        flag(ok & ~vals.isin(col.enum).to_numpy(), "unknown_value")
    if col.pattern is not None:
        flag(ok & ~vals.str.fullmatch(col.pattern).to_numpy(), "bad_format")
    if col.check == "gb32100":
        shape = vals.str.fullmatch(f"[{GB32100_CHARSET}]{{18}}").to_numpy()
        flag(~shape, "bad_format")
        good = np.zeros(len(idx), dtype=bool)
        if shape.any():
            good[shape] = gb32100_valid(vals[shape])
        flag(shape & ~good, "bad_check_character")
    elif col.check == "gb11643":
        shape = vals.str.fullmatch(r"\d{17}[\dX]").to_numpy()
        flag(~shape, "bad_format")
        good = np.zeros(len(idx), dtype=bool)
        if shape.any():
            good[shape] = gb11643_valid(vals[shape])
        flag(shape & ~good, "bad_check_character")
    elif col.check == "gb2260":
        shape = vals.str.fullmatch(r"\d{6}").to_numpy()
        flag(~shape, "bad_format")
        known = vals.str[:2].isin(PROVINCE_PREFIXES) & (
            (vals.str[:2] != "32") | (vals == "320000") | vals.str[:4].isin(JIANGSU_CITY_PREFIXES)
        )
        flag(shape & ~known.to_numpy(), "unknown_value")
    return found, parsed


def _check_rules(contract: Contract, frame: pd.DataFrame, parsed: dict[str, pd.Series]) -> list[pd.DataFrame]:
    found = []
    for rule in contract.rules:
        if rule["rule"] == "interval":
            start, end = parsed[rule["start"]], parsed[rule["end"]]
            rows = np.flatnonzero((end < start).to_numpy())
            if len(rows):
                shown = frame[rule["start"]].iloc[rows] + ".." + frame[rule["end"]].iloc[rows]
                found.append(_violations(rows, rule["end"], shown, "bad_interval"))
        elif rule["rule"] == "milestones":
            cols = rule["columns"]
            values = np.column_stack([parsed[c].to_numpy(dtype=float) for c in cols])
            # Compare each present milestone with the running maximum of those before it.
            running = np.fmax.accumulate(np.where(np.isnan(values), -np.inf, values), axis=1)
            decreasing = (values[:, 1:] < running[:, :-1]).any(axis=1)
            final = values[:, -1]
            bad_final = ~np.isnan(final) & (final != rule.get("final", 100))
            rows = np.flatnonzero(decreasing | bad_final)
            if len(rows):
                shown = frame[cols].iloc[rows].agg("/".join, axis=1)
                found.append(_violations(rows, "+".join(cols), shown, "bad_milestones"))
        else:
            raise ContractError(f"{contract.name}: unknown rule {rule['rule']!r}")
    return found


def key_values(frame: pd.DataFrame, columns: tuple[str, ...] | list[str]) -> pd.Series:
    """The key of each row as one text value (`a+b`), as quarantine reports it."""
    first, *rest = columns
    return frame[first].str.cat([frame[c] for c in rest], sep="+") if rest else frame[first]


def validate(
    contract: Contract,
    frame: pd.DataFrame,
    parent_keys: dict[str, set[str]] | None = None,
) -> ValidationResult:
    """Check every row of `frame` (text cells, '' = null, stripped) against `contract`.

    `parent_keys` maps a referenced table (`staffing.units`) to the set of its *accepted* keys
    (as `key_values` renders them); references to tables not given are not checked.
    """
    parent_keys = parent_keys or {}
    found: list[pd.DataFrame] = []
    parsed: dict[str, pd.Series] = {}
    for col in contract.columns:
        col_found, parsed[col.name] = _check_column(col, frame[col.name])
        found.extend(col_found)
    found.extend(_check_rules(contract, frame, parsed))

    key = list(contract.key)
    complete = (frame[key] != "").all(axis=1).to_numpy()
    keys = key_values(frame, key)
    duplicated = _duplicated_among(keys, complete)
    rows = np.flatnonzero(duplicated)
    if len(rows):
        found.append(_violations(rows, "+".join(key), keys.iloc[rows], "duplicate_key"))

    for ref in contract.references:
        if ref.table not in parent_keys:
            continue
        values = key_values(frame, ref.columns)
        present = (frame[list(ref.columns)] != "").all(axis=1).to_numpy()
        dangling = present & ~values.isin(parent_keys[ref.table]).to_numpy()
        rows = np.flatnonzero(dangling)
        if len(rows):
            found.append(_violations(rows, "+".join(ref.columns), values.iloc[rows], "dangling_reference"))

    violations = (
        pd.concat(found, ignore_index=True)
        if found
        else pd.DataFrame({"row": pd.Series(dtype=np.int64), "column": [], "value": [], "reason": []})
    )
    violations = violations.sort_values(["row", "column", "reason"], kind="stable", ignore_index=True)
    return ValidationResult(rows=len(frame), violations=violations)


def _duplicated_among(keys: pd.Series, complete: np.ndarray) -> np.ndarray:
    """Duplicated among rows with a complete key only (incomplete keys are `missing_required`)."""
    out = np.zeros(len(keys), dtype=bool)
    sub = keys[complete]
    out[np.flatnonzero(complete)] = sub.duplicated(keep=False).to_numpy()
    return out


def normalise(contract: Contract, frame: pd.DataFrame) -> pd.DataFrame:
    """Canonical text of accepted rows, the same whatever the file format: booleans as
    'true'/'false', money with two decimals, other numbers without a sign or trailing zeros."""
    out = frame[contract.column_names].copy()
    for col in contract.columns:
        values = out[col.name]
        present = values != ""
        if col.type == "bool":
            out[col.name] = parse_bool(values).fillna("")
        elif col.type == "money":
            amounts = pd.to_numeric(values.where(present), errors="coerce").to_numpy(dtype=float)
            out[col.name] = np.where(present, np.char.mod("%.2f", np.round(amounts, 2)), "")
        elif col.type in ("int", "decimal"):
            text = values.str.lstrip("+")
            if col.type == "decimal":
                has_point = text.str.contains(".", regex=False)
                text = text.where(~has_point, text.str.rstrip("0").str.rstrip("."))
                text = text.where(~text.str.startswith("."), "0" + text)
            out[col.name] = text
    return out


def check_header(contract: Contract, header: list[str]) -> tuple[dict[str, str], list[str]]:
    """Map a delivered header to contract columns; returns (rename map, missing columns)."""
    aliases = contract.header_aliases
    rename = {h: aliases[h.strip()] for h in header if h.strip() in aliases}
    missing = [c for c in contract.column_names if c not in set(rename.values())]
    return rename, missing


__all__ = [
    "CONTRACTS_DIR",
    "REASONS",
    "Column",
    "Contract",
    "ContractError",
    "Reference",
    "ValidationResult",
    "check_header",
    "key_values",
    "load_contracts",
    "normalise",
    "validate",
]
