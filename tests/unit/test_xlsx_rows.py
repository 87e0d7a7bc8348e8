"""RowsWorksheet.write_columns writes the sheet XlsxWriter's write_row writes (dagster_project/outputs/xlsx_rows.py)."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from decimal import Decimal

import pandas as pd
import pytest
import xlsxwriter

from dagster_project.outputs.xlsx_rows import RowsWorksheet

HEADER = ["文本", "数", "日期", "杂项", "无格式"]
ROWS = [
    [None, 1, date(2024, 1, 15), None, "x"],  # column 0 first used after columns 1 and 2
    [None, None, None, None, None],  # a row with no cell: no <row> either
    ["a & b < c > d \"q\" 'q'", 0.1 + 0.2, datetime(2024, 1, 31, 8, 30), True, None],
    ["  两端空格  ", -2.5, pd.Timestamp("2023-12-31"), False, "南京市"],
    ["行\n换行", 10**17, None, float("inf"), "_x0041_ literal"],
    ["控制\x01字符", 123456789.123456789, date(1900, 3, 1), float("-inf"), ""],
    ["=1+1", 0, None, Decimal("2.50"), "{=A1}"],
    ["<r>rich</r>", 2**53 + 1, None, "", "u" * 20000],
    ["重复", 7, date(2024, 1, 15), "=SUM(B2:B3)", "x"],
    ["重复", 7.0, date(2024, 1, 15), None, "x"],
]


def _book(path, fast: bool, constant_memory: bool = True):
    book = xlsxwriter.Workbook(
        str(path), {"strings_to_urls": False, "nan_inf_to_errors": True, "constant_memory": constant_memory}
    )
    book.set_properties({"created": datetime(2024, 1, 1)})
    header = book.add_format({"bold": True})
    ws = book.add_worksheet("表", worksheet_class=RowsWorksheet)
    # column formats added in an order unlike their first use, so that the styles' indices would differ
    ws.set_column(3, 3, 10, book.add_format({"num_format": "0"}))
    ws.set_column(0, 0, 20, book.add_format({"text_wrap": True}))
    ws.set_column(2, 2, 12, book.add_format({"num_format": "yyyy-mm-dd"}))
    ws.set_column(1, 1, 12, book.add_format({"num_format": "0.00"}))
    ws.write_row(0, 0, HEADER, header)
    if fast:
        ws.write_columns(1, 0, [list(column) for column in zip(*ROWS, strict=True)])
    else:
        for index, row in enumerate(ROWS, start=1):
            ws.write_row(index, 0, row)
    ws.conditional_format(1, 0, len(ROWS), 0, {"type": "cell", "criteria": "==", "value": '"重复"', "format": header})
    ws.autofilter(0, 0, len(ROWS), len(HEADER) - 1)
    ws.freeze_panes(1, 0)
    book.close()
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.mark.parametrize("constant_memory", [True, False])
def test_write_columns_writes_the_parts_write_row_writes(tmp_path, monkeypatch, constant_memory):
    slow = _book(tmp_path / "rows.xlsx", fast=False, constant_memory=constant_memory)
    cells = []
    write_cell = RowsWorksheet._write_cell
    monkeypatch.setattr(
        RowsWorksheet, "_write_cell", lambda ws, row, col, cell: cells.append(row) or write_cell(ws, row, col, cell)
    )
    fast = _book(tmp_path / "columns.xlsx", fast=True, constant_memory=constant_memory)
    assert sorted(fast) == sorted(slow)
    for name in slow:
        assert fast[name] == slow[name], name
    if not constant_memory:
        return  # write_row itself (shared strings need the whole sheet)
    # XlsxWriter's own cell writer wrote only the header and the 10 cells that are not plain
    # strings, numbers or dates: booleans, ±inf, formulas, a Decimal, a rich and an overlong string
    assert len(cells) == len(HEADER) + 10
    sheet = fast["xl/worksheets/sheet1.xml"].decode()
    # the cases are there: escaped text, kept spaces, a formula, an error, a blank row skipped
    assert "a &amp; b &lt; c &gt; d" in sheet and 'xml:space="preserve"' in sheet
    assert "<f>1+1</f>" in sheet and "#DIV/0!" in sheet and '<row r="3"' not in sheet


def test_a_nan_is_an_empty_cell_like_none(tmp_path):
    def sheet(value) -> bytes:
        path = tmp_path / "nan.xlsx"
        book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "nan_inf_to_errors": True})
        book.set_properties({"created": datetime(2024, 1, 1)})
        ws = book.add_worksheet("s", worksheet_class=RowsWorksheet)
        ws.write_row(0, 0, ["a", "b"])
        ws.write_columns(1, 0, [[1.5, 2.5], [value, 3.0]])
        book.close()
        with zipfile.ZipFile(path) as archive:
            return archive.read("xl/worksheets/sheet1.xml")

    assert sheet(float("nan")) == sheet(None)
    assert b'<c r="B2"' not in sheet(None)
