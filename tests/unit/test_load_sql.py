"""Ingestion in DuckDB: a damaged row anywhere fails the whole system; GB18030 and XLSX files give
the CSV's rows, lines and duplicated keys; Chinese headers and Chinese enum labels load."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from dagster_project.ingest import readers
from dagster_project.ingest.contracts import load_contracts
from dagster_project.ingest.load import RAW, SystemLoadError, load_system

KEY = b"k" * 32
NOW = datetime(2024, 1, 31, 2, 0)
UNITS = load_contracts()["staffing.units"]
HEADER = "unit_code,unit_name,region_code,admin_level,unit_type,parent_unit_code,established_on,abolished_on\n"
CODES = ["91320100MB0000000A", "91320100MB0000001D", "91320100MB0000002G", "91320100MB0000003K", "91320100MB0000004N"]


def _units_file(folder, rows: list[str]):
    path = folder / "staffing" / "units.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def _unit(code: str, name: str = "某局") -> str:
    return f"{code},{name},320100,city,agency,,,\n"


def test_a_short_row_late_in_a_file_fails_the_whole_system(tmp_path):
    _units_file(tmp_path, [*map(_unit, CODES[:4]), CODES[4] + ",某局\n"])
    con = duckdb.connect(str(tmp_path / "kaohe.duckdb"))
    with pytest.raises(SystemLoadError, match=r"line\(s\) 6 do not have the header's 8 fields"):
        load_system(con, tmp_path, "staffing", KEY, delivery="20240131", now=NOW)
    assert con.execute(f"select count(*) from {RAW}.staffing__units").fetchall() == [(0,)]


def test_xlsx_and_gbk_files_read_like_the_csv(tmp_path):
    """The workbook through fastexcel, the GB18030 file transcoded by streaming: both give the
    CSV's rows and lines, and the key on the first and the last row is a duplicate in all three."""
    from openpyxl import Workbook

    rows = [_unit(CODES[0], "甲"), *map(_unit, CODES[1:4]), _unit(CODES[0], "乙")]
    csv_file = _units_file(tmp_path / "csv", rows)
    gbk_file = _units_file(tmp_path / "gbk", [])
    gbk_file.write_bytes(csv_file.read_text(encoding="utf-8").encode("gb18030"))
    workbook = Workbook()
    for line in (HEADER + "".join(rows)).splitlines():
        workbook.active.append(line.split(","))
    xlsx_file = tmp_path / "xlsx" / "staffing" / "units.xlsx"
    xlsx_file.parent.mkdir(parents=True)
    workbook.save(xlsx_file)
    expected = readers.read_table_file(csv_file, UNITS).frame()
    assert expected["_line"].tolist() == [2, 3, 4, 5, 6]
    for path, encoding in ((gbk_file, "gb18030"), (xlsx_file, "xlsx")):
        table = readers.read_table_file(path, UNITS)
        assert table.encoding == encoding
        assert table.frame().to_dict("records") == expected.to_dict("records")
    for folder in ("csv", "gbk", "xlsx"):
        con = duckdb.connect(str(tmp_path / f"{folder}.duckdb"))
        load_system(con, tmp_path / folder, "staffing", KEY, delivery="20240131", now=NOW)
        assert con.execute(
            f"select line, column_name, value, reason from {RAW}.quarantine order by line"
        ).fetchall() == [(2, "unit_code", CODES[0], "duplicate_key"), (6, "unit_code", CODES[0], "duplicate_key")]


PERSONS_ZH = (
    "人员编号,身份证号,姓名,性别,出生日期,统一社会信用代码,内设机构代码,编制类型,职务类别,入编时间,出编时间,人员状态\n"
    "P1,11010519491231002X,张三,男,1949-12-31,{unit},,行政编制,工作人员,2000-01-01,,在职\n"
    "P2,110101199003074514,李四,女,1990-03-07,{unit},,administrative,staff,2015-01-01,,active\n"
    "P3,11010519491231002X,王五,X,1949-12-31,{unit},,行政编制,工作人员,2001-01-01,,在职\n"
)


def test_a_chinese_header_persons_file_with_chinese_labels_loads(tmp_path):
    """男 and 在职 as the register prints them: accepted, kept in raw as delivered (staging turns
    them into codes); an unknown label is still unknown_value."""
    _units_file(tmp_path, [_unit(CODES[0])])
    persons = tmp_path / "staffing" / "persons.csv"
    persons.write_text(PERSONS_ZH.format(unit=CODES[0]), encoding="utf-8")
    con = duckdb.connect(str(tmp_path / "kaohe.duckdb"))
    load_system(con, tmp_path, "staffing", KEY, delivery="20240131", now=NOW)
    assert con.execute(
        f"select _line, gender, staffing_type, status from {RAW}.staffing__persons order by 1"
    ).fetchall() == [
        (2, "男", "行政编制", "在职"),
        (3, "女", "administrative", "active"),
    ]
    assert con.execute(f"select line, column_name, value, reason from {RAW}.quarantine").fetchall() == [
        (4, "gender", "X", "unknown_value")
    ]
