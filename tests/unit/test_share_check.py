"""The share check of the quarantine (docs/sources.md, Bad input): a table blocks publishing when
more than its contract's share of rows is rejected and at least its least number of rows; one bad
row of a 12-row table is a warning, not a stop."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import duckdb

from dagster_project.core.settings import PROJECT_ROOT
from dagster_project.ingest.assets import quarantine_share_within_limit, quarantine_shares, share_verdicts
from dagster_project.ingest.contracts import _parse_contract
from dagster_project.ingest.load import load_system
from tests.conftest import settings_for

SAMPLE = PROJECT_ROOT / "sources" / "sample"
KEY = b"k" * 32
HEADER = "incident_id,year,unit_code,kind,points,note\n"
UNIT = "11320100100000040W"


def _delivery(tmp_path: Path, bad: int, rows: int = 12) -> Path:
    """The sample's performance with an incidents file of `rows` rows, the first `bad` of them of
    an unknown kind."""
    folder = tmp_path / "20240101"
    shutil.copytree(SAMPLE / "performance", folder / "performance")
    lines = [f"I{i},2023,{UNIT},{'scolding' if i <= bad else 'criticism'},0.5,\n" for i in range(1, rows + 1)]
    (folder / "performance" / "incidents.csv").write_text(HEADER + "".join(lines), encoding="utf-8")
    return folder


def _check(tmp_path: Path, bad: int) -> tuple[list, dg.AssetCheckResult]:
    settings = settings_for(tmp_path, _delivery(tmp_path, bad))
    Path(settings.warehouse).parent.mkdir(parents=True)
    with duckdb.connect(settings.warehouse) as con:
        load_system(con, tmp_path / "20240101", "performance", KEY)
        shares = quarantine_shares(con)
    return shares, quarantine_share_within_limit(kaohe=settings)


def test_one_bad_row_of_twelve_is_a_warning(tmp_path):
    shares, result = _check(tmp_path, bad=1)
    assert ("performance.incidents", 12, 1, 1 / 12) in shares
    blocking, warnings = share_verdicts(shares)
    assert blocking == []
    assert warnings == ["performance.incidents: 1 of 12 rows quarantined (8.3%, over 5%), fewer than 5 rows: a warning"]
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN


def test_five_bad_rows_of_twelve_block(tmp_path):
    shares, result = _check(tmp_path, bad=5)
    assert share_verdicts(shares) == (["performance.incidents: 5 of 12 rows quarantined (41.7%, over 5%)"], [])
    assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR


def test_a_clean_table_passes(tmp_path):
    _, result = _check(tmp_path, bad=0)
    assert result.passed


def test_the_share_and_the_least_number_are_set_per_contract(tmp_path):
    source = (PROJECT_ROOT / "sources" / "contracts" / "performance" / "incidents.yml").read_text(encoding="utf-8")
    path = tmp_path / "performance" / "incidents.yml"
    path.parent.mkdir()
    path.write_text(source + "quarantine: {max_share: 0.2, min_rows: 1}\n", encoding="utf-8")
    contract = _parse_contract(path)
    assert (contract.max_rejected_share, contract.min_rejected_rows) == (0.2, 1)
    default = _parse_contract(PROJECT_ROOT / "sources" / "contracts" / "performance" / "incidents.yml")
    assert (default.max_rejected_share, default.min_rejected_rows) == (0.05, 5)
