"""Ingestion in DuckDB SQL gives exactly the old pandas path's raw and quarantine tables (issue 26):
the same raw rows (load id, file, line), quarantine rows (reason, column, value, line), whole
rejected rows, and load records, on the clean small delivery (with ID numbers in an extra
column) and on the dirty one."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from dagster_project.ingest import legacy_load, load
from dagster_project.ingest.contracts import SYSTEMS, load_contracts

KEY = b"k" * 32
NOW = datetime(2024, 1, 31, 2, 0)


def _tables(module, delivery: Path, database: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(database))
    try:
        for system in SYSTEMS:
            module.load_system(con, delivery, system, KEY, delivery="d1", now=NOW)
        out = {
            c.name: con.execute(f"select * from raw.{load.raw_table(c)} order by _line").fetchall()
            for c in load_contracts().values()
        }
        for table in ("quarantine", "quarantine_rows", "loads"):
            out[table] = con.execute(f"select * from raw.{table} order by all").fetchall()
        return out
    finally:
        con.close()


@pytest.mark.parametrize("fixture", ["small_delivery", "dirty_delivery"])
def test_sql_ingestion_equals_the_pandas_path(fixture, request, tmp_path):
    delivery = request.getfixturevalue(fixture)
    old = _tables(legacy_load, delivery, tmp_path / "old.duckdb")
    new = _tables(load, delivery, tmp_path / "new.duckdb")
    assert old.keys() == new.keys()
    for table in old:
        assert new[table] == old[table], table
    if fixture == "dirty_delivery":
        assert len(new["quarantine"]) > 300
