"""A table is checked and written a chunk of rows at a time (readers.CHUNK_ROWS), so memory stays
flat on a national delivery; what lands in raw and in quarantine does not depend on the chunks."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd
import pytest

from dagster_project.ingest import readers
from dagster_project.ingest.contracts import load_contracts
from dagster_project.ingest.load import RAW, SystemLoadError, load_system, raw_table

KEY = b"k" * 32
NOW = datetime(2024, 1, 31, 2, 0)
UNITS = load_contracts()["staffing.units"]
HEADER = "unit_code,unit_name,region_code,admin_level,unit_type,parent_unit_code,established_on,abolished_on\n"
CODES = ["91320100MB0000000A", "91320100MB0000001D", "91320100MB0000002G", "91320100MB0000003K", "91320100MB0000004N"]


def _load_all(path, delivery) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    for system in ("staffing", "finance", "performance"):
        load_system(con, delivery, system, KEY, delivery="20240131", now=NOW)
    return con


def _everything(con) -> dict[str, list[tuple]]:
    tables = [f"{RAW}.{raw_table(c)}" for c in load_contracts().values()]
    tables += [f"{RAW}.{t}" for t in ("loads", "quarantine", "quarantine_rows", "current_loads")]
    return {t: con.execute(f"select * from {t} order by all").fetchall() for t in tables}


def test_a_dirty_delivery_loads_the_same_in_chunks_of_300_rows(tmp_path, dirty_delivery, monkeypatch):
    whole = _everything(_load_all(tmp_path / "whole.duckdb", dirty_delivery))
    monkeypatch.setattr(readers, "CHUNK_ROWS", 300)
    chunked = _everything(_load_all(tmp_path / "chunked.duckdb", dirty_delivery))
    assert chunked == whole
    # the comparison means something: tables of many chunks, and duplicates chunks apart
    loads = pd.DataFrame(whole[f"{RAW}.loads"]).set_index(3)  # by table_name
    assert loads.loc["finance.execution", 8] > 30 * 300
    duplicates = pd.DataFrame(whole[f"{RAW}.quarantine"], columns=range(9))
    duplicates = duplicates[duplicates[8] == "duplicate_key"]
    assert len(duplicates) and any(lines.max() - lines.min() > 300 for _, lines in duplicates.groupby([3, 7])[5])


def _units_file(tmp_path, rows: list[str]):
    path = tmp_path / "staffing" / "units.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def _unit(code: str, name: str = "某局") -> str:
    return f"{code},{name},320100,city,agency,,,\n"


def test_a_key_on_the_first_and_last_row_is_duplicate_in_every_chunking(tmp_path):
    path = _units_file(tmp_path, [_unit(CODES[0], "甲"), *map(_unit, CODES[1:4]), _unit(CODES[0], "乙")])
    for chunk_rows in (1, 2, 5, 100):
        table = readers.read_table_file(path, UNITS, chunk_rows=chunk_rows)
        assert table.duplicate_keys == {CODES[0]}
        assert [len(c.frame) for c in table.chunks()] == [min(chunk_rows, 5 - s) for s in range(0, 5, chunk_rows)]
        assert [c.start for c in table.chunks()] == list(range(0, 5, chunk_rows))
    con = duckdb.connect(str(tmp_path / "kaohe.duckdb"))
    load_system(con, tmp_path, "staffing", KEY, delivery="20240131", now=NOW)
    assert con.execute(f"select line, value, reason from {RAW}.quarantine order by line").fetchall() == [
        (2, CODES[0], "duplicate_key"),
        (6, CODES[0], "duplicate_key"),
    ]
    assert con.execute(f"select _line from {RAW}.staffing__units order by 1").fetchall() == [(3,), (4,), (5,)]


def test_a_hash_collision_is_not_a_duplicate(tmp_path, monkeypatch):
    """Keys are first compared by a 64-bit hash; rows whose hashes collide are compared by text."""
    path = _units_file(tmp_path, [*map(_unit, CODES), _unit(CODES[2])])
    monkeypatch.setattr(readers.pd.util, "hash_array", lambda values, **_: pd.Series(values).map(len).to_numpy())
    assert readers.read_table_file(path, UNITS, chunk_rows=2).duplicate_keys == {CODES[2]}


def test_an_id_number_in_a_late_chunk_marks_the_extra_column_personal(tmp_path):
    rows = [_unit(code).replace("\n", ",\n") for code in CODES]
    rows[4] = rows[4].replace(",\n", ",110101199003070038\n")  # a valid GB 11643 number on the last row
    path = tmp_path / "staffing" / "units.csv"
    path.parent.mkdir(parents=True)
    path.write_text(HEADER.replace("\n", ",备注\n") + "".join(rows), encoding="utf-8")
    table = readers.read_table_file(path, UNITS, chunk_rows=2)
    assert table.personal_extra == {"备注"}
    con = duckdb.connect(str(tmp_path / "kaohe.duckdb"))
    load_system(con, tmp_path, "staffing", KEY, delivery="20240131", now=NOW)
    extras = [e for (e,) in con.execute(f"select _extra from {RAW}.staffing__units order by _line").fetchall()]
    assert "110101199003070038" not in "".join(extras) and len(extras) == 5


def test_a_short_row_late_in_a_big_file_still_fails_the_whole_system(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "CHUNK_ROWS", 2)
    _units_file(tmp_path, [*map(_unit, CODES[:4]), CODES[4] + ",某局\n"])
    con = duckdb.connect(str(tmp_path / "kaohe.duckdb"))
    with pytest.raises(SystemLoadError, match=r"line\(s\) 6 do not have the header's 8 fields"):
        load_system(con, tmp_path, "staffing", KEY, delivery="20240131", now=NOW)
    assert con.execute(f"select count(*) from {RAW}.staffing__units").fetchall() == [(0,)]


def test_xlsx_and_gbk_files_chunk_like_the_csv(tmp_path):
    """The workbook is read whole and sliced; a GB18030 file is decoded once and streamed: both
    give the CSV's rows, lines and duplicated keys, chunk by chunk."""
    from openpyxl import Workbook

    rows = [_unit(CODES[0], "甲"), *map(_unit, CODES[1:4]), _unit(CODES[0], "乙")]
    csv_file = _units_file(tmp_path / "csv", rows)
    gbk_file = tmp_path / "gbk" / "units.csv"
    gbk_file.parent.mkdir()
    gbk_file.write_bytes(csv_file.read_text(encoding="utf-8").encode("gb18030"))
    workbook = Workbook()
    for line in (HEADER + "".join(rows)).splitlines():
        workbook.active.append(line.split(","))
    xlsx_file = tmp_path / "units.xlsx"
    workbook.save(xlsx_file)
    expected = readers.read_table_file(csv_file, UNITS, chunk_rows=100)
    for path in (gbk_file, xlsx_file):
        table = readers.read_table_file(path, UNITS, chunk_rows=2)
        assert [len(c.frame) for c in table.chunks()] == [2, 2, 1]
        assert table.duplicate_keys == {CODES[0]} and table.lines.tolist() == [2, 3, 4, 5, 6]
        pd.testing.assert_frame_equal(table.frame, expected.frame)
