"""The dbt project declares what is published (meta.publish of the marts): every mart, each
`by_year` one keyed by year, read from dbt's manifest."""

from __future__ import annotations

import json

from dagster_project.dbt_manifest import MANIFEST
from dagster_project.publish import BY_YEAR, WHOLE, published_marts


def test_every_mart_is_published_and_each_by_year_mart_has_a_year_column(dbt_manifest):
    nodes = json.loads(MANIFEST.read_text(encoding="utf-8"))["nodes"].values()
    models = {n["name"]: n for n in nodes if n["resource_type"] == "model"}
    marts = {name for name, n in models.items() if n["fqn"][1] == "marts"}
    declared = published_marts()
    assert set(declared) == marts and len(marts) == 14
    assert {name for name, how in declared.items() if how == WHOLE} == {"dim_unit", "quarantine"}
    for name, how in declared.items():
        if how == BY_YEAR:
            assert "year" in models[name]["columns"], name
