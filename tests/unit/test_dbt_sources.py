"""The dbt sources are generated from the contracts: the committed files must match them."""

from __future__ import annotations

from dagster_project.dbt_sources import source_files


def test_committed_dbt_sources_match_the_contracts():
    for path, expected in source_files().items():
        assert path.read_text(encoding="utf-8") == expected, (
            f"{path} is stale: run `python -m dagster_project.dbt_sources`"
        )
