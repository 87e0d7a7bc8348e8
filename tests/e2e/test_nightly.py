"""The nightly job end to end on generated deliveries (ingest → dbt build → checks)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dagster_project.ingest.contracts import load_contracts
from dagster_project.ingest.load import raw_table
from dagster_project.runner import run_nightly
from dagster_project.synthetic.writer import MANIFEST_FILE, write_delivery
from dagster_project.transform.labels import seed_labels
from tests.conftest import PLANTED_ID_COLUMN, settings_for

pytestmark = pytest.mark.e2e


def _query(settings, sql: str) -> pd.DataFrame:
    con = duckdb.connect(settings.warehouse, read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def test_clean_delivery_builds_raw_staging_and_snapshots_for_all_tables(clean_run):
    settings, report = clean_run
    assert report.exit_code == 0, (report.failures, report.failed_checks)
    assert len(report.tables) == 14 and all(t.rejected == 0 for t in report.tables)
    assert report.checks and not report.failed_checks
    tables = _query(settings, "select table_schema, table_name from information_schema.tables")
    schemas = tables.groupby("table_schema")["table_name"].agg(set).to_dict()
    contracts = load_contracts().values()
    assert {raw_table(c) for c in contracts} <= schemas["raw"]
    assert {"quarantine", "quarantine_rows", "loads", "current_loads"} <= schemas["raw"]
    assert {f"stg_{c.system}__{c.table}" for c in contracts} <= schemas["staging"]
    assert schemas["snapshots"] == {f"snp_staffing__{t}" for t in ("units", "establishment", "divisions", "persons")}
    for contract in contracts:
        staged = _query(settings, f"select count(*) n from staging.stg_{contract.system}__{contract.table}")["n"][0]
        delivered = sum(1 for _ in (Path(settings.sources_dir) / contract.system / f"{contract.table}.csv").open()) - 1
        assert staged == delivered, contract.name


def _personal_data_cells(database: str, id_numbers: list[str], names: list[str]) -> list[tuple[str, str, int]]:
    """(table, column, cells) of every VARCHAR column holding an ID number (anywhere in the text,
    JSON included) or a name (as a whole cell), searched by SQL: DuckDB compresses its pages."""
    con = duckdb.connect(database, read_only=True)
    try:
        con.execute("create temp table id_numbers as select unnest(?) as needle", [id_numbers])
        con.execute("create temp table names as select unnest(?) as needle", [names])
        columns = con.execute(
            "select schema_name, table_name, column_name from duckdb_columns() "
            "where data_type = 'VARCHAR' and not internal and database_name = current_database()"
        ).fetchall()
        hits = []
        for schema, table, column in columns:
            cell = f'"{schema}"."{table}"."{column}"'
            n = con.execute(
                f'select count(*) from "{schema}"."{table}" where {cell} in (select needle from names) '
                f"or exists (select 1 from unnest(regexp_extract_all({cell}, '\\d{{17}}[\\dX]')) as t(candidate) "
                "where candidate in (select needle from id_numbers))"
            ).fetchall()[0][0]
            if n:
                hits.append((f"{schema}.{table}", column, n))
        return hits
    finally:
        con.close()


def test_personal_data_never_enter_the_warehouse_or_the_publication(clean_run, small_tables):
    """Every ID number and name of the delivery — also the copy of the ID numbers in a column
    outside the contract (conftest.PLANTED_ID_COLUMN) — is absent from every text cell."""
    settings, _ = clean_run
    persons = small_tables["staffing.persons"]
    id_numbers, names = persons["id_number"].unique().tolist(), persons["name"].unique().tolist()
    extra = _query(settings, "select _extra from raw.staffing__persons limit 1")["_extra"][0]
    assert PLANTED_ID_COLUMN in extra  # the column was delivered and kept, hashed
    for database in (settings.warehouse, str(Path(settings.publish_dir) / "kaohe.duckdb")):
        assert _personal_data_cells(database, id_numbers, names) == [], database


def test_dirty_delivery_quarantines_exactly_the_manifest_and_is_idempotent(tmp_path, dirty_delivery, dbt_manifest):
    settings = settings_for(tmp_path, dirty_delivery)
    report = run_nightly(settings)
    # The small dirty delivery rejects more than 5% of some tables: a blocking check fails.
    assert report.exit_code == 1
    # the ingestion's check holds the 5% rule, once
    assert [c.name for c in report.failed_checks] == ["quarantine_share_within_limit"]
    assert report.published is None

    manifest = pd.read_csv(dirty_delivery / MANIFEST_FILE)
    key = ["system", "table", "line", "column", "reason"]
    quarantine = _query(
        settings,
        'select system, split_part(table_name, \'.\', 2) as "table", line, column_name as "column", reason '
        "from raw.quarantine",
    )
    pd.testing.assert_frame_equal(
        quarantine.sort_values(key, ignore_index=True),
        manifest[key].sort_values(key, ignore_index=True),
        check_dtype=False,
    )
    for (system, table), lines in manifest.groupby(["system", "table"])["line"]:
        staged = _query(settings, f"select source_line from staging.stg_{system}__{table}")["source_line"]
        assert not set(staged) & set(lines), f"{system}.{table} staged a quarantined line"
    # the quality report of the blocked run lists every quarantined cell: counted per table and
    # reason on the page, all of them in quarantine.csv beside it (file, line, column, reason)
    page = report.report.read_text(encoding="utf-8")
    listed = pd.read_csv(report.report.parent / "quarantine.csv", encoding="utf-8-sig")
    listed[["system", "table"]] = listed["source_table"].str.split(".", n=1, expand=True)
    pd.testing.assert_frame_equal(
        listed.rename(columns={"column_name": "column"})[key].sort_values(key, ignore_index=True),
        manifest[key].sort_values(key, ignore_index=True),
        check_dtype=False,
    )
    assert f"在用数据中共 {len(manifest):,} 个单元格被拒收" in page
    labels = seed_labels()  # the reasons in words, from the label table dim_rejection_reason
    for (system, table), rows in manifest.groupby(["system", "table"]):
        reasons = rows["reason"].value_counts().sort_index()
        counted = ", ".join(f"{labels.label('rejection', reason)} {n:,}" for reason, n in reasons.items())
        assert f"<summary>{system}.{table}: {len(rows):,} — {counted}</summary>" in page
    # failed checks come first, in plain words, the technical name beside
    assert page.index("未通过和警告的检查") < page.index("项检查通过")
    assert "在用数据中没有哪张表被拒收的行超过 5%" in page

    counts_sql = (
        " union all ".join(
            f"select '{c.name}' as t, count(*) as n from raw.{raw_table(c)}" for c in load_contracts().values()
        )
        + " union all select 'quarantine', count(*) from raw.quarantine"
    )
    before = _query(settings, counts_sql)
    again = run_nightly(settings)
    assert all(t.reused for t in again.tables)
    pd.testing.assert_frame_equal(before, _query(settings, counts_sql))


def test_gbk_and_xlsx_deliveries_load_the_same_rows_as_utf8(tmp_path, small_tables):
    import duckdb as ddb

    from dagster_project.ingest.load import load_system

    def load(kind: str, **fmt) -> ddb.DuckDBPyConnection:
        folder = tmp_path / kind
        write_delivery(small_tables, folder, **fmt)
        con = ddb.connect(str(tmp_path / f"{kind}.duckdb"))
        for system in ("staffing", "finance", "performance"):
            load_system(con, folder, system, b"test-key")
        return con

    cons = {
        "utf8": load("utf8"),
        "gbk": load("gbk", encoding="gbk", headers="zh"),
        "xlsx": load("xlsx", fmt="xlsx", headers="zh"),
    }
    for contract in load_contracts().values():
        frames = {
            kind: con.execute(
                f"select * exclude (_load_id, _file, _file_sha256, _loaded_at) from raw.{raw_table(contract)} "
                "order by _line"
            ).df()
            for kind, con in cons.items()
        }
        assert len(frames["utf8"]) == len(small_tables[contract.name])
        pd.testing.assert_frame_equal(frames["utf8"], frames["gbk"], check_dtype=False)
        pd.testing.assert_frame_equal(frames["utf8"], frames["xlsx"], check_dtype=False)
    encodings = {r[0] for r in cons["gbk"].execute("select distinct encoding from raw.loads").fetchall()}
    assert encodings == {"gb18030"}


def _copy_warehouse(clean_run, tmp_path: Path, sources: Path):
    settings, _ = clean_run
    target = settings_for(tmp_path, sources)
    Path(target.warehouse).parent.mkdir(parents=True)
    shutil.copy(settings.warehouse, target.warehouse)
    return target


def test_unreadable_file_fails_its_system_and_earlier_data_stay(tmp_path, clean_run, small_tables):
    delivery = tmp_path / "broken"
    changed = dict(small_tables)
    changed["staffing.units"] = small_tables["staffing.units"].assign(unit_name=lambda f: f["unit_name"] + "（新）")
    write_delivery(changed, delivery)
    persons = delivery / "staffing" / "persons.csv"
    data = persons.read_bytes()
    persons.write_bytes(data[: len(data) // 2].rsplit(b",", 3)[0])  # cut mid-row: truncated export
    settings = _copy_warehouse(clean_run, tmp_path, delivery)
    current = "select table_name, load_id from raw.current_loads order by table_name"
    before = _query(settings, current)
    names_before = _query(settings, "select unit_name from staging.stg_staffing__units order by unit_code")

    report = run_nightly(settings)

    assert report.exit_code == 1
    assert len(report.failures) == 1
    message = report.failures[0]
    assert "ingest_staffing" in message and str(persons) in message and "truncated" in message
    after = _query(settings, current)
    staffing = after["table_name"].str.startswith("staffing.")
    pd.testing.assert_frame_equal(before[staffing], after[staffing])  # not one staffing table moved on
    pd.testing.assert_frame_equal(
        names_before, _query(settings, "select unit_name from staging.stg_staffing__units order by unit_code")
    )
    failures = _query(settings, "select system, file, problem from raw.load_failures")
    assert failures["system"].tolist() == ["staffing"] and failures["file"].tolist() == [str(persons)]


def test_a_transfer_shows_both_versions_in_the_register_snapshot(tmp_path, clean_run, small_tables):
    persons = small_tables["staffing.persons"].copy()
    units = small_tables["staffing.units"]["unit_code"].tolist()
    mover = persons.index[(persons["exit_date"] == "") & (persons["position_kind"] == "staff")][0]
    old_unit = persons.loc[mover, "unit_code"]
    new_unit = next(u for u in units if u != old_unit)
    moved = persons.loc[[mover]].assign(unit_code=new_unit, division_code="", entry_date="2024-01-16")
    persons.loc[mover, ["exit_date", "status"]] = ["2024-01-15", "transferred_out"]
    tables = {**small_tables, "staffing.persons": pd.concat([persons, moved], ignore_index=True)}
    delivery = tmp_path / "transfer"
    write_delivery(tables, delivery)
    settings = _copy_warehouse(clean_run, tmp_path, delivery)

    report = run_nightly(settings)
    assert report.exit_code == 0, (report.failures, report.failed_checks)

    from dagster_project.core.settings import pii_key
    from dagster_project.ingest.load import keyed_hash

    key = keyed_hash(pd.Series([persons.loc[mover, "person_id"]]), pii_key())[0]
    history = _query(
        settings,
        f"select unit_code, entry_date, exit_date, status, dbt_valid_to is null as in_force "
        f"from snapshots.snp_staffing__persons where person_key = '{key}' order by dbt_valid_from, unit_code",
    )
    rows = set(history.itertuples(index=False, name=None))
    entry = pd.Timestamp(persons.loc[mover, "entry_date"])
    assert (old_unit, entry, pd.NaT, "active", False) in {
        (u, e, x if pd.notna(x) else pd.NaT, s, f) for u, e, x, s, f in rows
    }
    assert (old_unit, entry, pd.Timestamp("2024-01-15"), "transferred_out", True) in rows
    assert (new_unit, pd.Timestamp("2024-01-16"), pd.NaT, "active", True) in {
        (u, e, x if pd.notna(x) else pd.NaT, s, f) for u, e, x, s, f in rows
    }


def test_a_table_missing_from_a_delivered_system_keeps_its_snapshot_with_a_warning(tmp_path, clean_run, small_tables):
    delivery = tmp_path / "partial"
    changed = {name: frame for name, frame in small_tables.items() if name.startswith("staffing.")}
    changed["staffing.units"] = small_tables["staffing.units"].assign(unit_name=lambda f: f["unit_name"] + "（更名）")
    del changed["staffing.persons"]
    write_delivery(changed, delivery)
    settings = _copy_warehouse(clean_run, tmp_path, delivery)
    current = "select table_name, load_id from raw.current_loads order by table_name"
    before = _query(settings, current).set_index("table_name")["load_id"]

    report = run_nightly(settings)

    assert report.exit_code == 0, (report.failures, report.failed_checks)
    assert report.warnings == [
        "staffing.persons: no file in delivery partial; its last delivered snapshot stays current"
    ]
    after = _query(settings, current).set_index("table_name")["load_id"]
    assert after["staffing.persons"] == before["staffing.persons"]
    assert after["staffing.units"] != before["staffing.units"]
    assert after["finance.budget"] == before["finance.budget"]  # the system folder was absent
    names = _query(settings, "select unit_name from staging.stg_staffing__units")["unit_name"]
    assert names.str.endswith("（更名）").all()


def test_a_dropped_unit_whose_children_stay_current_blocks_and_the_report_names_it(tmp_path, clean_run, small_tables):
    """A later delivery of units alone drops a unit whose persons (an older file, still current)
    refer to it: the run stops before publishing, and says which unit and which files."""
    units, persons = small_tables["staffing.units"], small_tables["staffing.persons"]
    dropped = persons["unit_code"].iloc[0]
    delivery = tmp_path / "dropped"
    write_delivery({"staffing.units": units[units["unit_code"] != dropped]}, delivery)
    settings = _copy_warehouse(clean_run, tmp_path, delivery)

    report = run_nightly(settings)

    assert report.exit_code == 1 and report.published is None
    message = " ".join(report.failures)
    assert message.startswith("kaohe_dbt_assets: dbt skipped") and "relationships" in message
    assert f"staffing.persons (current file {Path(clean_run[0].sources_dir) / 'staffing' / 'persons.csv'}" in message
    assert dropped in message and str(delivery / "staffing" / "units.csv") in message
    page = (Path(settings.publish_dir) / "runs" / report.run_id / "docs" / "quality.html").read_text(encoding="utf-8")
    assert "本次运行未发布：有阻断性检查未通过" in page and dropped in page and "relationships" in page
