"""Whole-file failures get one clear message naming the file; good files read the same in every form."""

from __future__ import annotations

import pytest

from dagster_project.ingest.contracts import load_contracts
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
        read_table_file(path, UNITS).frame()  # the rows are read (and counted) when staged
    assert str(path) in str(caught.value)
    assert problem in str(caught.value)


def test_chinese_headers_optional_columns_and_extra_columns(tmp_path):
    text = (
        "统一社会信用代码,机构名称,行政区划代码,层级,机构性质,备用字段\n"
        "91350100M000100Y43, 某局 ,320100,city,agency,x\n\n"
    )
    table = read_table_file(_write(tmp_path, "units.csv", text.encode("gb18030")), UNITS)
    frame = table.frame()
    row = frame.iloc[0]
    assert (row["unit_code"], row["unit_name"], row["abolished_on"]) == ("91350100M000100Y43", "某局", "")
    assert table.encoding == "gb18030"
    assert table.extra_columns == ["备用字段"] and frame["_x0"].tolist() == ["x"]
    assert frame["_line"].tolist() == [2]


def test_bom_and_line_numbers_follow_the_file(tmp_path):
    text = "\ufeff" + HEADER + ROW + ROW.replace("Y43", "Y44")
    frame = read_table_file(_write(tmp_path, "units.csv", text.encode("utf-8")), UNITS).frame()
    assert frame["unit_code"].tolist() == ["91350100M000100Y43", "91350100M000100Y44"]
    assert frame["_line"].tolist() == [2, 3]


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


TRADITIONAL_UNITS = [
    ("11320000MB0000001X", "江蘇省財政廳", "320000", "province"),
    ("11320100MB0000002X", "南京市發展和改革委員會", "320100", "city"),
    ("11320200MB0000003X", "無錫市機構編制委員會辦公室", "320200", "city"),
    ("11320300MB0000004X", "徐州市人力資源和社會保障局", "320300", "city"),
]


@pytest.mark.parametrize(
    ("encoding", "names", "suspect"),
    [
        ("big5", [u[1] for u in TRADITIONAL_UNITS], "BIG5"),
        (
            "shift_jis",
            ["江蘇省財政庁", "南京市経済産業局", "無錫市人事委員会事務局", "徐州市こども家庭課"],
            "SHIFT-JIS",
        ),
    ],
    ids=["big5", "shift-jis"],
)
def test_a_file_in_another_east_asian_encoding_is_refused_with_a_guess(tmp_path, encoding, names, suspect):
    rows = "".join(f"{code},{name},{region},{level},agency,,,\n" for (code, _, region, level), name in zip(
        TRADITIONAL_UNITS, names, strict=True))  # fmt: skip
    path = _write(tmp_path, "units.csv", (HEADER + rows).encode(encoding))
    with pytest.raises(UnreadableFile, match=r"garbled|not valid UTF-8") as caught:
        read_table_file(path, UNITS)
    assert f"looks like {suspect}" in str(caught.value) and "UTF-8 or GBK" in str(caught.value)


def test_rare_name_characters_in_gb18030_are_not_a_wrong_encoding(tmp_path):
    rows = "".join(f"{code},{name},{region},{level},agency,,,\n" for code, name, region, level in [
        ("11320000MB0000001X", "江苏省䶮龑研究室", "320000", "province"),  # rare characters outside GB2312
        ("11320100MB0000002X", "南京市财政局", "320100", "city"),
        ("11320200MB0000003X", "无锡市机构编制委员会办公室", "320200", "city"),
        ("11320300MB0000004X", "徐州市人力资源和社会保障局", "320300", "city"),
    ])  # fmt: skip
    table = read_table_file(_write(tmp_path, "units.csv", (HEADER + rows).encode("gb18030")), UNITS)
    assert table.encoding == "gb18030" and table.frame()["unit_name"].iloc[0] == "江苏省䶮龑研究室"


def test_cells_are_stripped_of_every_kind_of_edge_whitespace(tmp_path):
    """Every cell is stripped as str.strip() strips (readers.stripped): the ideographic space of
    Chinese exports, tabs, the \\x1c–\\x1f separators str.strip() removes, and a cell with a line
    break inside quotes; untouched cells keep their text."""
    rows = [
        ROW,
        "91350100M000100Y44,\u3000某局\u3000,320100,city,agency,,,\n",
        "91350100M000100Y45,\t某局\x1c,320100,city ,agency,,,\n",
        '91350100M000100Y46,"某局\n ",320100,city,agency,,,\n',
    ]
    frame = read_table_file(_write(tmp_path, "units.csv", (HEADER + "".join(rows)).encode()), UNITS).frame()
    assert frame["unit_name"].tolist() == ["某局", "某局", "某局", "某局"]
    assert frame["admin_level"].tolist() == ["city"] * 4
    assert frame["_line"].tolist() == [2, 3, 4, 6]  # the quoted line break makes the last row end on line 6
    assert frame["unit_code"].tolist() == [f"91350100M000100Y4{i}" for i in (3, 4, 5, 6)]
