"""A worksheet that writes a block of rows as its XML in one pass (`kaohe export`'s detail sheets).

XlsxWriter writes a cell through about fifteen Python calls (type dispatch, dimension checks, a
tuple in its row table, then escaping and attribute lists when the row is flushed); the workbook's
~860k cells spent nearly all of the export there. `RowsWorksheet.write_columns` writes the same
XML itself in constant_memory mode: each distinct string of a column is escaped once, numbers and
dates are formatted as XlsxWriter formats them, and any other value (booleans, NaN/inf, empty or
formula-like strings, rich or overlong strings) goes through XlsxWriter's own cell writer. The
sheet XML is byte for byte what `write_row` would write (tests/unit/test_xlsx_rows.py), so it
leans on XlsxWriter's internals of the pinned version (constraints.txt).
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Sequence
from math import isfinite
from typing import Any

from xlsxwriter.utility import _preserve_whitespace, xl_col_to_name
from xlsxwriter.worksheet import Worksheet

_DATES = (datetime.date, datetime.time, datetime.timedelta)  # datetime.datetime and pd.Timestamp are dates


class _Other:
    """A value that XlsxWriter's own writer writes (kept apart from the fragments, which are strings)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class RowsWorksheet(Worksheet):
    """`add_worksheet(name, worksheet_class=RowsWorksheet)`; `write_columns` writes cells without a
    format of their own (each cell shows its column's format, as `write_row(..., None)` does)."""

    def write_columns(self, first_row: int, first_col: int, columns: Sequence[Sequence[Any]]) -> None:
        """Rows first_row… of the columns first_col…; None (or NaN) is an empty cell. Every row
        written before must be above first_row (constant_memory writes rows in order)."""
        length = len(columns[0]) if columns else 0
        rows = range(first_row, first_row + length)
        if (
            not length
            or not self.constant_memory
            or self.write_handlers
            or self.default_date_format is not None
            or any(row in self.row_info or row in self.comments for row in rows)
            or first_row < self.previous_row
            or first_row + length > self.xls_rowmax
            or first_col + len(columns) > self.xls_colmax
        ):
            for index in range(length):
                self.write_row(first_row + index, first_col, [column[index] for column in columns])
            return
        if first_row > self.previous_row:
            self._write_single_row(first_row)  # the rows above (the header) go out first
        cols = range(first_col, first_col + len(columns))
        styles = self._styles(cols, columns)
        fragments = [self._fragments(column, style) for column, style in zip(columns, styles, strict=True)]
        letters = [xl_col_to_name(col) for col in cols]
        row_tail = self._row_tail()
        write = self.fh.write
        written: list[int] = []  # the rows with a cell, for the sheet's dimensions
        used_cols: set[int] = set()
        out: list[str] = []
        for row, cells in zip(rows, zip(*fragments, strict=True), strict=True):
            number = row + 1
            line = []
            for col, letter, fragment in zip(cols, letters, cells, strict=True):
                if fragment is None:
                    continue
                if fragment.__class__ is _Other:
                    fragment = self._other(row, col, fragment.value)
                    if not fragment:
                        continue
                    line.append(fragment)
                else:
                    line.append(f'<c r="{letter}{number}"{fragment}')
                used_cols.add(col)
            if line:
                written.append(row)
                out.append(f'<row r="{number}"{row_tail}{"".join(line)}</row>')
                if len(out) >= 2000:
                    write("".join(out))
                    out.clear()
        write("".join(out))
        self.table.clear()  # what _other left: every row of the block is written
        self.previous_row = first_row  # _check_dimensions skips rows above previous_row
        if written:
            self._check_dimensions(written[0], min(used_cols))
            self._check_dimensions(written[-1], max(used_cols))
        self.previous_row = rows[-1]

    def _styles(self, cols: range, columns: Sequence[Sequence[Any]]) -> list[str]:
        """Each column's ' s="…"' (its column format), the formats indexed in the order XlsxWriter
        would meet them (row by row) so that the styles part is the same."""
        first_use = []
        for col, column in zip(cols, columns, strict=True):
            row = next((i for i, v in enumerate(column) if not _empty(v)), None)
            if row is not None:
                first_use.append((row, col))
        styles = {col: "" for col in cols}
        for _, col in sorted(first_use):
            info = self.col_info.get(col)
            if info is not None and info.column_format is not None:
                styles[col] = f' s="{info.column_format._get_xf_index()}"'
        return [styles[col] for col in cols]

    def _fragments(self, column: Sequence[Any], style: str) -> list[Any]:
        """Each cell's XML after its reference: a string, None (no cell) or _Other."""
        strings: dict[str, Any] = {}
        dates: dict[Any, str] = {}
        out: list[Any] = []
        for value in column:
            kind = value.__class__
            if value is None:
                out.append(None)
            elif kind is str:
                fragment = strings.get(value)
                if fragment is None:
                    fragment = strings[value] = self._string(value, style)
                out.append(fragment)
            elif kind is float or kind is int:
                if isfinite(value):
                    out.append(f"{style}><v>{value:.16G}</v></c>")
                elif value != value:  # NaN: an empty cell, as the frame's missing values
                    out.append(None)
                else:
                    out.append(_Other(value))
            elif isinstance(value, _DATES) and not isinstance(value, (bool, int, float)):
                fragment = dates.get(value)
                if fragment is None:
                    number = self._convert_date_time(value)
                    fragment = dates[value] = f"{style}><v>{number:.16G}</v></c>"
                out.append(fragment)
            else:
                out.append(_Other(value))
        return out

    def _string(self, value: str, style: str) -> Any:
        """An inline string as XlsxWriter writes it in constant_memory mode, or _Other when
        XlsxWriter would write something else (a blank, a formula, a link, a number, a rich or a
        truncated string)."""
        if (
            value == ""
            or (self.strings_to_formulas and (value.startswith("=") or value.startswith("{=")))
            or (self.strings_to_urls and ":" in value)
            or self.strings_to_numbers
            or len(value) > self.xls_strmax // 2
        ):
            return _Other(value)
        escaped = self._escape_control_characters(value)
        if escaped.startswith("<r>") and escaped.endswith("</r>"):
            return _Other(value)
        space = ' xml:space="preserve"' if _preserve_whitespace(escaped) else ""
        return f'{style} t="inlineStr"><is><t{space}>{self._escape_data(escaped)}</t></is></c>'

    def _other(self, row: int, col: int, value: Any) -> str:
        """The cell as XlsxWriter's own `write` and row flush write it ("" when it writes none)."""
        self.previous_row = row  # `_write` must not flush the row table here
        self._write(row, col, value)
        cell = self.table[row].pop(col, None)
        if cell is None:
            return ""
        return self._captured(lambda: self._write_cell(row, col, cell))

    def _row_tail(self) -> str:
        """The attributes of a <row> after its number, as XlsxWriter writes a row without set_row."""
        head = '<row r="1"'
        rendered = self._captured(lambda: self._write_row(0, None))
        if not rendered.startswith(head):
            raise RuntimeError(f"unexpected XlsxWriter row element {rendered!r}")
        return rendered[len(head) :]

    def _captured(self, write: Any) -> str:
        fh, self.fh = self.fh, io.StringIO()
        try:
            write()
            return self.fh.getvalue()
        finally:
            self.fh = fh


def _empty(value: Any) -> bool:
    """No cell in XlsxWriter either: None, NaN, or ''."""
    kind = value.__class__
    return value is None or (kind is str and value == "") or (kind is float and value != value)
