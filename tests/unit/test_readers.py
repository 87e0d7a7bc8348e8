"""Whole-file failures get one clear message naming the file; good files read the same in every form."""

from __future__ import annotations

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
    assert table.extra.to_dict("records") == [{"备用字段": "x"}]
    assert table.personal_extra == frozenset()
    assert table.lines.tolist() == [2]


def test_bom_and_line_numbers_follow_the_file(tmp_path):
    text = "\ufeff" + HEADER + ROW + ROW.replace("Y43", "Y44")
    table = read_table_file(_write(tmp_path, "units.csv", text.encode("utf-8")), UNITS)
    assert table.frame["unit_code"].tolist() == ["91350100M000100Y43", "91350100M000100Y44"]
    assert table.lines.tolist() == [2, 3]


PERSONS = load_contracts()["staffing.persons"]
PERSON_ROW = "P1,11010519491231002X,张三,F,1949-12-31,91350100M000100Y43,,administrative,staff,2000-01-01,,active"
PERSON_HEADER = (
    "person_id,id_number,name,gender,birth_date,unit_code,division_code,staffing_type,position_kind,"
    "entry_date,exit_date,status"
)


@pytest.mark.parametrize(
    ("header", "row", "problem"),
    [
        (
            PERSON_HEADER + ",身份证号",
            PERSON_ROW + ",11010519491231002X",
            "id_number 2 times (as 'id_number', '身份证号')",
        ),
        (PERSON_HEADER + ",id_number", PERSON_ROW + ",11010519491231002X", "id_number 2 times"),
        (PERSON_HEADER + ",备注,备注", PERSON_ROW + ",a,b", "备注 2 times"),
    ],
    ids=["english-and-chinese", "same-name", "extra-column"],
)
def test_a_repeated_column_fails_the_file(tmp_path, header, row, problem):
    path = _write(tmp_path, "persons.csv", f"{header}\n{row}\n".encode())
    with pytest.raises(UnreadableFile, match="repeated in the header") as caught:
        read_table_file(path, PERSONS)
    assert problem in str(caught.value) and str(path) in str(caught.value)


def test_extra_columns_that_may_hold_personal_data_are_marked(tmp_path):
    header = PERSON_HEADER + ",身份证号码,Name (old),证件,备注"
    row = PERSON_ROW + ",11010519491231002X,李四,11010519491231002X,调入"
    table = read_table_file(_write(tmp_path, "persons.csv", f"{header}\n{row}\n".encode()), PERSONS)
    # by label (身份证号码 ⊃ 身份证号), by name (Name (old) ⊃ name), by content (a valid ID number)
    assert table.personal_extra == frozenset({"身份证号码", "Name (old)", "证件"})
