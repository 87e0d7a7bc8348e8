"""The synthetic delivery: deterministic, clean under its own contracts, dirty exactly as listed."""

from __future__ import annotations

import filecmp
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from dagster_project.cli import app
from dagster_project.ingest.contracts import SYSTEMS, load_contracts
from dagster_project.ingest.load import load_system, raw_table
from dagster_project.ingest.sql import validate
from dagster_project.synthetic import writer
from dagster_project.synthetic.generator import generate, regions_for
from tests.conftest import SEED, SMALL_SCALE


def _load(folder: Path) -> duckdb.DuckDBPyConnection:
    """The delivery loaded as ingestion loads it, into a warehouse in memory."""
    con = duckdb.connect()
    for system in SYSTEMS:
        load_system(con, folder, system, b"k" * 32, delivery="d1")
    return con


def _validate_delivery(folder: Path) -> pd.DataFrame:
    """Every violation ingestion finds in the delivery (parents first)."""
    return (
        _load(folder)
        .execute(
            'select system, split_part(table_name, \'.\', 2) as "table", line, column_name as "column", reason '
            "from raw.quarantine"
        )
        .df()
    )


def test_every_clean_table_satisfies_its_contract(small_delivery):
    assert _validate_delivery(small_delivery).empty


def test_scale_one_is_clean_and_of_the_designed_size():
    tables = generate(scale=1.0, seed=SEED)
    accepted: dict[str, set[str]] = {}
    for name, contract in load_contracts().items():
        result = validate(contract, tables[name], accepted)
        assert result.violations.empty, (name, result.violations.head())
        accepted[name] = set(tables[name][list(contract.key)].agg("+".join, axis=1))
    roster = tables["performance.roster"]
    assert 550 <= len(roster) <= 700  # ~600 evaluated units (docs/architecture.md, Scale)
    assert 40_000 <= len(tables["staffing.persons"]) <= 65_000
    assert 12_000 <= len(tables["performance.tasks"]) <= 18_000
    units = tables["staffing.units"]
    assert set(units["region_code"]) == {"320000", *(f"32{i:02d}00" for i in range(1, 14))}
    assert "江苏省发展和改革委员会" in set(units["unit_name"])
    assert "南京市财政局" in set(units["unit_name"])


def test_every_contract_key_is_unique_in_a_large_delivery():
    """Scale 3, seed 5 gave one unit two shared duties (unit_code, Z90): a clean delivery whose
    run quarantined them. Keys are unique by construction, checked here over every contract."""
    tables = generate(scale=3.0, seed=5)
    for name, contract in load_contracts().items():
        keys = tables[name][list(contract.key)]
        assert not keys.duplicated().any(), (name, keys[keys.duplicated(keep=False)].head())


def test_realistic_imperfections_are_present(small_tables):
    tasks = small_tables["performance.tasks"]
    assert set(tasks["origin"]) == {"superior_deployment", "unit_function", "new_long_term"}
    assert (tasks["duty_code"] == "").any()  # 越位
    assert (tasks["target_value"] == "").any()  # not quantified
    assert (tasks[[f"milestone_q{q}" for q in range(1, 5)]] == "").any(axis=1).any()
    assert set(small_tables["staffing.establishment"]["change_reason"]) >= {"sanding", "adjustment"}
    assert (small_tables["finance.execution"]["amount"].str.startswith("-")).any()  # refunds
    assert set(small_tables["finance.budget"]["fiscal_year"]) == {"2022", "2023"}
    assert set(small_tables["performance.progress"]["verified_status"]) >= {"verified", "pending"}
    assert (small_tables["performance.incidents"]["kind"] == "veto").sum() == 1
    assert set(small_tables["performance.reviews"]["reviewer_group"]) == {
        "leaders",
        "peers",
        "service_objects",
    }
    assert (small_tables["finance.budget"]["econ_code"].isin(["30211", "30217", "30231", "31013"])).any()


def test_counties_join_between_scale_one_and_ten():
    assert len(regions_for(1)) == 14
    assert len(regions_for(10)) == 14 + 95
    assert 14 < len(regions_for(5)) < 14 + 95
    assert any(r.code == "330000" for r in regions_for(13))


def _generate(out: Path, *args: str) -> None:
    result = CliRunner().invoke(app, ["generate", "--out", str(out), "--scale", str(SMALL_SCALE), *args])
    assert result.exit_code == 0, result.output


def test_csv_is_byte_for_byte_deterministic_for_a_seed(tmp_path):
    _generate(tmp_path / "a", "--seed", "11")
    _generate(tmp_path / "b", "--seed", "11")
    _generate(tmp_path / "c", "--seed", "12")
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.csv"))
    assert len(files) == 14
    match, mismatch, errors = filecmp.cmpfiles(tmp_path / "a", tmp_path / "b", files, shallow=False)
    assert (len(match), mismatch, errors) == (14, [], [])
    _, mismatch, _ = filecmp.cmpfiles(tmp_path / "a", tmp_path / "c", files, shallow=False)
    assert mismatch


def test_gbk_and_xlsx_deliveries_hold_the_same_rows(tmp_path):
    _generate(tmp_path / "utf8")
    _generate(tmp_path / "gbk", "--encoding", "gbk", "--headers", "zh")
    _generate(tmp_path / "xlsx", "--format", "xlsx", "--headers", "zh")
    loaded = [_load(tmp_path / kind) for kind in ("utf8", "gbk", "xlsx")]
    for contract in load_contracts().values():
        query = f"select * exclude (_file, _file_sha256, _loaded_at) from raw.{raw_table(contract)} order by _line"
        frames = [con.execute(query).df() for con in loaded]
        assert len(frames[0]) > 0
        pd.testing.assert_frame_equal(frames[0], frames[1])
        pd.testing.assert_frame_equal(frames[0], frames[2])
    raw = (tmp_path / "gbk" / "staffing" / "persons.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")


def test_xlsx_refuses_a_table_too_large_for_one_sheet(tmp_path, monkeypatch):
    monkeypatch.setattr(writer, "XLSX_MAX_ROWS", 100)
    result = CliRunner().invoke(app, ["generate", "--out", str(tmp_path), "--scale", "0.05", "--format", "xlsx"])
    assert result.exit_code == 2
    assert "one XLSX sheet holds at most 99" in result.output


def test_dirty_manifest_lists_exactly_what_the_contracts_reject(dirty_delivery):
    manifest = pd.read_csv(dirty_delivery / writer.MANIFEST_FILE, dtype={"line": int})
    found = _validate_delivery(dirty_delivery)
    key = ["system", "table", "line", "column", "reason"]
    expected = manifest[key].sort_values(key, ignore_index=True)
    actual = found[key].sort_values(key, ignore_index=True)
    pd.testing.assert_frame_equal(expected, actual, check_dtype=False)
    reasons = set(manifest["reason"])
    assert reasons == {
        "bad_type",
        "bad_format",
        "bad_check_character",
        "unknown_value",
        "out_of_range",
        "missing_required",
        "bad_interval",
        "bad_milestones",
        "duplicate_key",
        "dangling_reference",
    }
    assert {"staffing", "finance", "performance"} == set(manifest["system"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scale", "0"], "scale must be positive"),
        (["--headers", "fr"], "en or zh"),
        (["--format", "json"], "unknown format"),
        (["--encoding", "latin-1"], "unknown encoding"),
    ],
)
def test_generate_refuses_bad_options_with_a_message(tmp_path, args, message):
    result = CliRunner().invoke(app, ["generate", "--out", str(tmp_path / "x"), *args])
    assert result.exit_code == 2
    assert message in result.output
