"""Personal data in any text cell (docs/architecture.md, Personal data): every substring that is
a resident ID number — 18 characters with a valid GB 11643 check digit, spaces, hyphens and a
lower-case x tolerated — and, in the staffing tables' columns outside the contract, every name
of the register, is replaced by its keyed hash token before anything is written.

DuckDB finds the few cells that may hold an ID number (a regular expression in C++ over every
cell); only those, and the cells of extra staffing columns, pass through Python.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re

import duckdb

from dagster_project.core.national_codes import GB11643_CHECK, GB11643_WEIGHTS

# 17 digits and a check character, with spaces or hyphens between them, not inside a longer run
# of digits. DuckDB's RE2 has no look-around: its filter is the looser form.
ID_NUMBER = re.compile(r"(?<![0-9])[0-9](?:[ \-]*[0-9]){16}[ \-]*[0-9Xx](?![0-9])")
ID_FILTER = "[0-9]([ -]*[0-9]){16}[ -]*[0-9Xx]"
_SEPARATORS = re.compile(r"[ \-]")


def id_number_valid(candidate: str) -> bool:
    """Whether 18 characters (separators taken out) carry a valid GB 11643 check digit."""
    total = sum((ord(ch) - 48) * int(w) for ch, w in zip(candidate[:17], GB11643_WEIGHTS, strict=True))
    return GB11643_CHECK[total % 11] == candidate[17]


class Scrubber:
    """The DuckDB functions that replace personal data in text cells, for one system's load."""

    IDS = "kaohe_scrub_ids"
    BOTH = "kaohe_scrub_names_and_ids"

    def __init__(self, key: bytes, names: frozenset[str] = frozenset()) -> None:
        self._key = key
        self._names = frozenset(n for n in names if len(n) >= 2)  # one character is no name
        self._lengths = sorted({len(n) for n in self._names}, reverse=True)
        self.scanned = 0  # cells staged (every text cell is looked at)
        self.ids_replaced = 0
        self.names_replaced = 0

    def token(self, value: str) -> str:
        return hmac.new(self._key, value.encode("utf-8"), hashlib.sha256).hexdigest()

    def scrub_ids(self, text: str) -> str:
        out, position = [], 0
        search_from = 0
        while match := ID_NUMBER.search(text, search_from):
            candidate = _SEPARATORS.sub("", match.group()).upper()
            if id_number_valid(candidate):
                out.append(text[position : match.start()])
                out.append(self.token(candidate))
                position = search_from = match.end()
                self.ids_replaced += 1
            else:
                search_from = match.start() + 1
        return "".join(out) + text[position:] if out else text

    def scrub_names(self, text: str) -> str:
        if not self._names or not text:
            return text
        out, i, start = [], 0, 0
        while i < len(text):
            for length in self._lengths:
                if text[i : i + length] in self._names:
                    out.append(text[start:i])
                    out.append(self.token(text[i : i + length]))
                    i += length
                    start = i
                    self.names_replaced += 1
                    break
            else:
                i += 1
        return "".join(out) + text[start:] if out else text

    def ids(self, expr: str) -> str:
        """SQL: `expr` with every ID number replaced (only cells that may hold one reach Python)."""
        return (
            f"(case when length({expr}) >= 18 and regexp_matches({expr}, '{ID_FILTER}') "
            f"then {self.IDS}({expr}) else {expr} end)"
        )

    def names_and_ids(self, expr: str) -> str:
        """SQL: `expr` with every register name and every ID number replaced (one pass in Python:
        the cells of the staffing tables' extra columns)."""
        if not self._names:
            return self.ids(expr)
        return f"(case when length({expr}) >= 2 then {self.BOTH}({expr}) else {expr} end)"

    def install(self, con: duckdb.DuckDBPyConnection) -> None:
        import pyarrow as pa

        def vectorised(function):
            def apply(cells):  # a pyarrow array of text (no annotations: DuckDB reads them)
                return pa.array([None if c is None else function(c) for c in cells.to_pylist()], type=pa.string())

            return apply

        self.remove(con)
        both = lambda text: self.scrub_names(self.scrub_ids(text))  # noqa: E731 - one of two pairs
        for name, function in ((self.IDS, self.scrub_ids), (self.BOTH, both)):
            con.create_function(name, vectorised(function), ["VARCHAR"], "VARCHAR", type="arrow", side_effects=True)

    def remove(self, con: duckdb.DuckDBPyConnection) -> None:
        for name in (self.IDS, self.BOTH):
            with contextlib.suppress(duckdb.InvalidInputException, duckdb.CatalogException):
                con.remove_function(name)

    def summary(self) -> str:
        return (
            f"{self.scanned:,} cells scanned for personal data, {self.ids_replaced:,} ID numbers and "
            f"{self.names_replaced:,} names replaced by their tokens"
        )
