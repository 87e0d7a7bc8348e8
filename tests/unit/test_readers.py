"""Whole-file failures get one clear message naming the file; good files read the same in every form."""

from __future__ import annotations

import json

import pytest

from dagster_project.contracts import load_contracts
from dagster_project.ingest.readers import UnreadableFile, read_table_file

UNITS = load_contracts()["staffing.units"]
HEADER = "unit_code,unit_name,region_code,admin_level,unit_type,parent_unit_code,established_on,abolished_on\n"
ROW = "91350100M000100Y43,某局,320100,city,agency,,,\n"


def _write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        ("units.csv", (HEADER + ROW + "91350100M000100Y43,某").encode(), "truncated"),
        ("units.csv", HEADER.encode() + b"\xff\xfe\xfa,\x80\n", "not valid UTF-8 or GB18030"),
        ("units.csv", b"", "empty"),
        ("units.csv", (HEADER.replace("unit_name,", "") + ROW.replace("某局,", "")).encode(), "unit_name [机构名称]"),
        ("units.csv", (HEADER + '"unterminated,x\n').encode(), "damaged"),
        ("units.xlsx", b"PK\x03\x04 this is not really a workbook", "not a readable XLSX"),
    ],
    ids=["truncated", "bad-encoding", "empty", "missing-column", "bad-quote", "corrupt-xlsx"],
)
def test_unreadable_files_name_the_file_and_the_problem(tmp_path, name, data, problem):
    path = _write(tmp_path, name, data)
    with pytest.raises(UnreadableFile) as caught:
        read_table_file(path, UNITS)
    assert str(path) in str(caught.value)
    assert problem in str(caught.value)


def test_chinese_headers_optional_columns_and_extra_columns(tmp_path):
    text = (
        "统一社会信用代码,机构名称,行政区划代码,层级,机构性质,备用字段\n"
        "91350100M000100Y43, 某局 ,320100,city,agency,x\n\n"
    )
    table = read_table_file(_write(tmp_path, "units.csv", text.encode("gb18030")), UNITS)
    row = table.frame.iloc[0]
    assert (row["unit_code"], row["unit_name"], row["abolished_on"]) == ("91350100M000100Y43", "某局", "")
    assert table.encoding == "gb18030"
    assert json.loads(table.extra.iloc[0]) == {"备用字段": "x"}
    assert table.lines.tolist() == [2]


def test_bom_and_line_numbers_follow_the_file(tmp_path):
    text = "\ufeff" + HEADER + ROW + ROW.replace("Y43", "Y44")
    table = read_table_file(_write(tmp_path, "units.csv", text.encode("utf-8")), UNITS)
    assert table.frame["unit_code"].tolist() == ["91350100M000100Y43", "91350100M000100Y44"]
    assert table.lines.tolist() == [2, 3]
