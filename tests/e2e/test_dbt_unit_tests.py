"""The dbt unit tests (given/expect rows computed by hand, beside each model's YAML) check the
SQL, not the data: the nightly build leaves them out and CI runs them here, on a built warehouse
(dbt reads the parents' column types from it)."""

from __future__ import annotations

import json
import shutil

import pytest

from dagster_project.core.dbt_project import MANIFEST
from tests.conftest import run_dbt

pytestmark = pytest.mark.e2e


def test_every_dbt_unit_test_passes(clean_run, tmp_path):
    settings, _ = clean_run
    warehouse = tmp_path / "kaohe.duckdb"
    shutil.copy(settings.warehouse, warehouse)
    expected = len(json.loads(MANIFEST.read_text(encoding="utf-8"))["unit_tests"])
    done = run_dbt(["test", "--select", "test_type:unit"], warehouse, tmp_path / "target", reuse_parse_state=True)
    assert done.returncode == 0, done.stdout[-4000:]
    assert expected >= 15 and f"PASS={expected} " in done.stdout
