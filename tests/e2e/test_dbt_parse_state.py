"""dbt parses partially on another warehouse path: the saved parse state takes the new path's
profile hash when its nodes carry the same database name, and only then."""

from __future__ import annotations

import shutil

import pytest

import dagster_project.core.dbt_project as parse_state
from tests.conftest import run_dbt

pytestmark = pytest.mark.e2e


def test_a_parse_state_is_adopted_for_another_path_of_the_same_database_name(tmp_path, monkeypatch, dbt_manifest):
    first, second = tmp_path / "one" / "kaohe.duckdb", tmp_path / "two" / "kaohe.duckdb"
    parsed = run_dbt(["parse"], first, tmp_path / "a")
    assert parsed.returncode == 0, parsed.stdout[-2000:]
    state = tmp_path / "a" / "partial_parse.msgpack"
    monkeypatch.setattr(parse_state, "PARTIAL_PARSE", state)

    untouched = state.read_bytes()
    parse_state.adopt_parse_state(tmp_path / "three" / "other.duckdb")  # another database name: left alone
    assert state.read_bytes() == untouched

    for target in ("b", "c"):
        (tmp_path / target).mkdir()
        shutil.copy(state, tmp_path / target / "partial_parse.msgpack")
    without = run_dbt(["parse"], second, tmp_path / "b")
    assert "Unable to do partial parsing because profile has changed" in without.stdout, without.stdout[-2000:]

    parse_state.adopt_parse_state(second)
    shutil.copy(state, tmp_path / "c" / "partial_parse.msgpack")
    adopted = run_dbt(["parse", "--log-level", "debug"], second, tmp_path / "c")
    assert adopted.returncode == 0 and "Unable to do partial parsing" not in adopted.stdout, adopted.stdout[-2000:]
    assert "Partial parsing enabled" in adopted.stdout
