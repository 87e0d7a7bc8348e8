"""Personal data everywhere (docs/architecture.md, Personal data; issue 21): every substring of any
text cell that is an ID number — spaces, hyphens, a lower-case x tolerated — and every register
name in the staffing tables' columns outside the contract is replaced by its keyed hash token
before anything is written. The warehouse, searched in every text column of every schema, holds
none of the delivery's ID numbers or names."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from dagster_project.core.settings import PROJECT_ROOT
from dagster_project.ingest.contracts import SYSTEMS
from dagster_project.ingest.load import RAW, keyed_hash, load_system
from dagster_project.ingest.personal import Scrubber

SAMPLE = PROJECT_ROOT / "sources" / "sample"
KEY = b"k" * 32
NOW = datetime(2024, 1, 31, 2, 0)


def _spaced(id_number: str) -> str:
    return f"{id_number[:6]} {id_number[6:14]}-{id_number[14:].lower()}"


def _delivery(tmp_path: Path) -> tuple[Path, list[str], list[str]]:
    """The sample with ID numbers and names hidden in free text: persons get 备注 '身份证:<id>'
    and 证件 with spaces, a hyphen and (where there is one) a lower-case x; units a contact
    person (联系人) named like the register; execution a remark with an ID number."""
    folder = tmp_path / "20240131"
    shutil.copytree(SAMPLE, folder)
    persons = pd.read_csv(folder / "staffing" / "persons.csv", dtype=str, keep_default_na=False)
    persons["备注"] = "身份证:" + persons["id_number"] + "，已核对"
    persons["证件"] = persons["id_number"].map(_spaced)
    persons.to_csv(folder / "staffing" / "persons.csv", index=False, lineterminator="\n")
    units = pd.read_csv(folder / "staffing" / "units.csv", dtype=str, keep_default_na=False)
    units["联系人"] = [f"联系人{persons['name'].iloc[i % len(persons)]}（电话）" for i in range(len(units))]
    units.to_csv(folder / "staffing" / "units.csv", index=False, lineterminator="\n")
    execution = pd.read_csv(folder / "finance" / "execution.csv", dtype=str, keep_default_na=False)
    execution["摘要"] = "报销人 " + persons["id_number"].iloc[0]
    execution.to_csv(folder / "finance" / "execution.csv", index=False, lineterminator="\n")
    return folder, persons["id_number"].tolist(), persons["name"].tolist()


def personal_cells(con: duckdb.DuckDBPyConnection, id_numbers: list[str], names: list[str]) -> list[tuple]:
    """(schema.table, column, cells) of every text column holding an ID number or a name anywhere
    in a cell, spaces, hyphens and case ignored."""
    needles = [n.upper() for n in id_numbers] + names
    con.execute("create or replace temp table needles as select unnest(?) as needle", [needles])
    columns = con.execute(
        "select schema_name, table_name, column_name from duckdb_columns() where data_type = 'VARCHAR' "
        "and not internal and database_name = current_database() and schema_name <> 'main'"
    ).fetchall()
    hits = []
    for schema, table, column in columns:
        cell = f"upper(replace(replace(\"{column}\", ' ', ''), '-', ''))"
        n = con.execute(
            f'select count(*) from "{schema}"."{table}" t where exists '
            f"(select 1 from needles where contains({cell}, needle))"
        ).fetchall()[0][0]
        if n:
            hits.append((f"{schema}.{table}", column, n))
    return hits


def test_no_id_number_or_name_in_any_cell_of_the_warehouse(tmp_path):
    folder, id_numbers, names = _delivery(tmp_path)
    con = duckdb.connect(str(tmp_path / "kaohe.duckdb"))
    for system in SYSTEMS:
        load_system(con, folder, system, KEY, now=NOW)
    assert personal_cells(con, id_numbers, names) == []
    # what replaced them: the tokens, the same as the ID number column's hash, text around kept
    first = con.execute(f"select _extra, id_number_hash from {RAW}.staffing__persons order by _line limit 1").fetchall()
    extra, token = first[0]
    assert f'"备注": "身份证:{token}，已核对"' in extra and f'"证件": "{token}"' in extra
    name_token = keyed_hash(pd.Series([names[0]]), KEY)[0]
    units_extra = con.execute(f"select _extra from {RAW}.staffing__units order by _line limit 1").fetchall()[0][0]
    assert units_extra == f'{{"联系人": "联系人{name_token}（电话）"}}'
    # the table shapes stay: nothing was rejected for it
    assert con.execute(f"select count(*) from {RAW}.quarantine").fetchall() == [(0,)]


def test_only_valid_id_numbers_are_replaced():
    scrubber = Scrubber(KEY)
    valid = "11010519491231002X"
    token = scrubber.token(valid)
    assert scrubber.scrub_ids(f"证:{valid[:-1]}x;") == f"证:{token};"
    assert scrubber.scrub_ids(f"{valid[:6]}-{valid[6:]}") == token
    assert scrubber.scrub_ids("110105194912310021") == "110105194912310021"  # wrong check digit
    assert scrubber.scrub_ids("9" + valid) == "9" + valid  # inside a longer run of digits
    assert scrubber.scrub_ids(f"1 {valid}") == f"1 {token}"  # a wrong start is passed over
    assert scrubber.ids_replaced == 3
