"""History survives a rebuild: the register snapshots are taken per delivery and dated by it, and
the skip decision looks at the warehouse's own builds, so moving the warehouse away and running
again on the same inbox (docs/operations.md) reproduces raw, snapshots and marts of the nightly
runs that applied the same deliveries one by one."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dagster_project.core.settings import PROJECT_ROOT
from dagster_project.runner import run_nightly
from tests.conftest import settings_for

pytestmark = pytest.mark.e2e
SAMPLE = PROJECT_ROOT / "sources" / "sample"
AS_OF = "2024-03-31"


def _staffing_delivery(inbox: Path, name: str, renamed: str, approved_delta: int) -> None:
    """A delivery of the register alone: one unit renamed, one establishment approval changed."""
    folder = inbox / name / "staffing"
    shutil.copytree(SAMPLE / "staffing", folder)
    units = pd.read_csv(folder / "units.csv", dtype=str, keep_default_na=False)
    units.loc[1, "unit_name"] = renamed
    units.to_csv(folder / "units.csv", index=False, lineterminator="\n")
    establishment = pd.read_csv(folder / "establishment.csv", dtype=str, keep_default_na=False)
    establishment.loc[0, "approved_count"] = str(int(establishment.loc[0, "approved_count"]) + approved_delta)
    establishment.to_csv(folder / "establishment.csv", index=False, lineterminator="\n")
    (inbox / name / "_READY").touch()


NOT_CONTENT = ("_loaded_at", "loaded_at", "applied_at", "failed_at", "run_id", "published_at", "detected_at")


def _tables(database: str, schemas: tuple[str, ...], ordered: bool = True) -> dict[str, pd.DataFrame]:
    """Every table of `schemas`, without the columns saying when (or by which run) it was written;
    sorted, or as stored."""
    con = duckdb.connect(database, read_only=True)
    try:
        names = con.execute(
            "select schema_name, table_name from duckdb_tables() where schema_name in (select unnest(?))",
            [list(schemas)],
        ).fetchall()
        frames = {}
        for schema, table in names:
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from duckdb_columns() where schema_name = ? and table_name = ?",
                    [schema, table],
                ).fetchall()
                if c not in NOT_CONTENT
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            order = " order by all" if ordered else ""
            frames[f"{schema}.{table}"] = con.execute(f"select {select} from {schema}.{table}{order}").df()
        return frames
    finally:
        con.close()


def test_a_rebuild_from_the_retained_deliveries_reproduces_raw_snapshots_and_marts(tmp_path, dbt_manifest):
    # The nightly history: three deliveries renaming a unit, one run each.
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLE, inbox / "20240101")
    settings = settings_for(tmp_path, inbox, as_of=AS_OF)
    assert run_nightly(settings).exit_code == 0
    _staffing_delivery(inbox, "20240201", "南京市乙局（更名一）", 2)
    assert run_nightly(settings).exit_code == 0
    _staffing_delivery(inbox, "20240301", "南京市乙局（更名二）", -1)
    nightly = run_nightly(settings)
    assert nightly.exit_code == 0 and nightly.published

    # The documented rebuild: the warehouse moved away, the same inbox and publication folder.
    # The inputs equal those of the publication in force, but this warehouse has built nothing
    # yet: it replays the three deliveries and snapshots the register after each.
    warehouse = Path(settings.warehouse)
    nightly_warehouse = warehouse.with_name("nightly.duckdb")
    warehouse.rename(nightly_warehouse)
    report = run_nightly(settings)
    assert report.exit_code == 0, (report.failures, report.failed_checks)
    assert not report.up_to_date

    versions = _tables(settings.warehouse, ("snapshots",))["snapshots.snp_staffing__units"]
    renamed = versions[versions["unit_code"] == "113201001000000247"]
    assert [str(d.date()) for d in renamed.sort_values("dbt_valid_from")["dbt_valid_from"]] == [
        "2024-01-01",
        "2024-02-01",
        "2024-03-01",
    ]
    before = _tables(str(nightly_warehouse), ("raw", "snapshots", "marts"))
    after = _tables(settings.warehouse, ("raw", "snapshots", "marts"))
    assert before.keys() == after.keys()
    for name in before:
        pd.testing.assert_frame_equal(before[name], after[name], obj=name)

    # Two publications of the same input are equal cell by cell, in the order they are stored
    # (DuckDB and Parquet), apart from which run published them and when.
    published = [run.published / "kaohe.duckdb" for run in (nightly, report)]
    stored = [_tables(str(p), ("marts",), ordered=False) for p in published]
    assert stored[0].keys() == stored[1].keys() and "marts.score_line_items" in stored[0]
    for name in stored[0]:
        pd.testing.assert_frame_equal(stored[0][name], stored[1][name], obj=name)
    parquet = [(p.parent / "parquet" / "score_line_items.parquet").read_bytes() for p in published]
    assert parquet[0] == parquet[1]

    # The rebuilt warehouse, run again, has nothing new (its own last build and the publication
    # in force were made from these inputs).
    assert run_nightly(settings).up_to_date == report.run_id
